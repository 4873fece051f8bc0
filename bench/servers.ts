import { randomBytes } from "node:crypto";
import { join, relative } from "node:path";
import { Child } from "./children.js";
import type { BenchOptions } from "./options.js";
import { API_KEY, BENCH, ROOT, SANDBOX, TENANT } from "./options.js";
import type { SeededVa, ServerReply, ServerRequest } from "./protocol.js";

/** The measured server processes (bench/server.ts): an echo anchor or the gateway. */

export type ServerChild = Child<ServerRequest, ServerReply> & { url: string };

export async function startServer(
  options: BenchOptions,
  name: string,
  mode: "grpc-echo" | "connect-echo" | "gateway",
  env: NodeJS.ProcessEnv = {},
  execArgv: string[] = [],
): Promise<ServerChild> {
  const logPath = join(options.work, `${name}.log`);
  const child = Child.spawn<ServerRequest, ServerReply>({
    name,
    entry: join(BENCH, "server.ts"),
    args: [mode],
    execArgv,
    env: {
      VA_API_KEYS: `${TENANT}=${API_KEY}`,
      VA_SANDBOX: "true",
      SANDBOX_MERCHANT_ID: SANDBOX.merchantId,
      SANDBOX_API_KEY: SANDBOX.apiKey,
      SANDBOX_WEBHOOK_SECRET: SANDBOX.webhookSecret,
      VA_SHUTDOWN_GRACE_MS: "1000",
      LOG_LEVEL: "info",
      ...env,
    },
    logPath,
  });
  let ready: ServerReply;
  try {
    ready = await child.ready;
  } catch (error) {
    throw new Error(`${name} did not start (see ${relative(ROOT, logPath)}): ${(error as Error).message}`);
  }
  return Object.assign(child, { url: ready.url ?? "" });
}

export async function stopServer(server: ServerChild): Promise<void> {
  await server.request({ cmd: "stop" }, 15_000).catch(() => undefined);
  await server.exit();
}

/** Environment for a gateway on a new SQLite file of this run. */
export const sqliteEnv = (options: BenchOptions, name: string) => ({
  SQLITE_PATH: join(options.work, `${name}-${randomBytes(3).toString("hex")}.sqlite`),
});

/** `count` VAs created straight in the server's store; a cursor after their CREATED events. */
export async function seed(server: ServerChild, count: number): Promise<{ vas: SeededVa[]; cursor: string }> {
  const reply = await server.request({ cmd: "seed", count, tenantId: TENANT, merchantId: SANDBOX.merchantId }, 300_000);
  return { vas: reply.vas ?? [], cursor: reply.cursor ?? "0" };
}
