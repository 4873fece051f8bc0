import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { configFromEnv, type GatewayConfig } from "../../src/config.js";
import { type Gateway, type GatewayOverrides, startGateway } from "../../src/gateway.js";
import { createLogger } from "../../src/logging.js";
import { createPostgresDatabase } from "./databases.js";

export type TestDialect = "sqlite" | "postgresql";

export const TENANTS = {
  alpha: { tenantId: "alpha", apiKey: "alpha-key-0123456789" },
  beta: { tenantId: "beta", apiKey: "beta-key-0123456789" },
} as const;

export const SANDBOX_SECRETS = {
  merchantId: "M-TEST",
  apiKey: "sandbox-provider-key-test",
  webhookSecret: "sandbox-webhook-secret-test",
};

export interface TestGateway extends Gateway {
  /** Every log line the gateway wrote. */
  logs: string[];
  /** Moves the gateway's clock (only with `controlledClock`). */
  advanceClock(ms: number): void;
  /** The gateway's current time. */
  now(): Date;
  stop(): Promise<void>;
}

export interface TestGatewayOptions {
  dialect: TestDialect;
  config?: Partial<GatewayConfig>;
  controlledClock?: boolean;
  overrides?: GatewayOverrides;
}

/** A gateway on a random loopback port with its own empty database. */
export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const folder = mkdtempSync(join(tmpdir(), "va-gateway-test-"));
  const postgres = options.dialect === "postgresql" ? await createPostgresDatabase() : undefined;
  let offsetMs = 0;
  const clock = options.controlledClock ? () => new Date(Date.now() + offsetMs) : undefined;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const config: GatewayConfig = {
    ...configFromEnv({}),
    host: "127.0.0.1",
    port: 0,
    databaseUrl: postgres?.url,
    sqlitePath: join(folder, "va.sqlite"),
    apiKeys: [TENANTS.alpha, TENANTS.beta],
    sandboxProvider: SANDBOX_SECRETS,
    heartbeatMs: 1_000,
    eventPollMs: 200,
    shutdownGraceMs: 1_000,
    ...options.config,
  };
  const gateway = await startGateway(config, {
    clock,
    logger: createLogger("info", sink),
    simulatorRetryDelaysMs: [50, 100, 200, 400, 800],
    ...options.overrides,
  });
  return {
    ...gateway,
    logs,
    advanceClock(ms) {
      offsetMs += ms;
    },
    now: () => new Date(Date.now() + offsetMs),
    async stop() {
      await gateway.close();
      await postgres?.drop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
