import { randomBytes } from "node:crypto";
import type { RoutingRules } from "./app/provider-registry.js";
import { type SnapBillerSettings, snapBillerSettingsFromEnv } from "./providers/snap-biller/settings.js";

export interface TenantKey {
  tenantId: string;
  apiKey: string;
}

export interface GatewayConfig {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  sqlitePath: string;
  apiKeys: TenantKey[];
  /** Sandbox mode: the sandbox provider runs against an in-process simulator and SimulatePayment works. */
  sandbox: boolean;
  defaultProvider: string;
  /** JSON file with real provider accounts (see `providers/configured.ts`); unset: none. */
  providersFile: string | undefined;
  /** Tenant (or `*`) → bank (or `*`) → providers to try in order; see README. */
  routes: RoutingRules;
  /** The `snap-biller` provider (banks call our SNAP inquiry/payment); unset = off. See README. */
  snapBiller?: SnapBillerSettings | undefined;
  /** `simulatorUrl`: use a sandbox simulator running elsewhere instead of starting one in-process. */
  sandboxProvider: { merchantId: string; apiKey: string; webhookSecret: string; simulatorUrl?: string };
  heartbeatMs: number;
  eventPollMs: number;
  sweepIntervalMs: number;
  /** Status polling for payments whose callback may have been lost; see PaymentReconciler. */
  reconcile: { beforeExpiryMs: number; afterExpiryMs: number; baseDelayMs: number; maxDelayMs: number };
  idempotencyRetentionMs: number;
  /** How often a gRPC health `Watch` re-checks the database. */
  healthPollMs: number;
  idempotencyLeaseMs: number;
  shutdownGraceMs: number;
  maxRequestBytes: number;
  corsOrigins: string[];
  logLevel: string;
  /** Bearer key for the operator routes (`GET /operator/held-payments`); unset: those routes answer 403. */
  operatorKey: string | undefined;
}

/** The key printed at sandbox start when no keys are configured. Never valid outside sandbox mode. */
export const SANDBOX_DEMO_KEY = "sandbox-demo-key";

/** Reads the configuration from environment variables (documented in the README). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const sandbox = (env.VA_SANDBOX ?? "true") !== "false";
  const apiKeys = parseApiKeys(env.VA_API_KEYS ?? "");
  if (apiKeys.length === 0) {
    if (!sandbox) throw new Error("VA_API_KEYS must be set outside sandbox mode (tenant=key,…)");
    apiKeys.push({ tenantId: "demo", apiKey: SANDBOX_DEMO_KEY });
  }
  return {
    host: env.HOST ?? "127.0.0.1",
    port: integer(env, "PORT", 8080),
    databaseUrl: env.DATABASE_URL || undefined,
    sqlitePath: env.SQLITE_PATH ?? "data/va-gateway.sqlite",
    apiKeys,
    sandbox,
    defaultProvider: env.VA_DEFAULT_PROVIDER ?? "sandbox",
    providersFile: env.VA_PROVIDERS_FILE || undefined,
    routes: parseRoutes(env.VA_ROUTES ?? "{}"),
    snapBiller: snapBillerSettingsFromEnv(env, sandbox),
    sandboxProvider: {
      merchantId: env.SANDBOX_MERCHANT_ID ?? "M-SANDBOX",
      apiKey: env.SANDBOX_API_KEY ?? randomBytes(24).toString("base64url"),
      webhookSecret: env.SANDBOX_WEBHOOK_SECRET ?? randomBytes(32).toString("base64url"),
      simulatorUrl: env.SANDBOX_SIMULATOR_URL || undefined,
    },
    heartbeatMs: integer(env, "VA_HEARTBEAT_MS", 15_000),
    eventPollMs: integer(env, "VA_EVENT_POLL_MS", 1_000),
    sweepIntervalMs: integer(env, "VA_SWEEP_INTERVAL_MS", 10_000),
    reconcile: {
      beforeExpiryMs: integer(env, "VA_RECONCILE_BEFORE_EXPIRY_MS", 10 * 60_000),
      afterExpiryMs: integer(env, "VA_RECONCILE_AFTER_EXPIRY_MS", 24 * 3_600_000),
      baseDelayMs: integer(env, "VA_RECONCILE_BASE_DELAY_MS", 30_000),
      maxDelayMs: integer(env, "VA_RECONCILE_MAX_DELAY_MS", 30 * 60_000),
    },
    idempotencyRetentionMs: integer(env, "VA_IDEMPOTENCY_RETENTION_MS", 48 * 3_600_000),
    healthPollMs: integer(env, "VA_HEALTH_POLL_MS", 5_000),
    idempotencyLeaseMs: integer(env, "VA_IDEMPOTENCY_LEASE_MS", 60_000),
    shutdownGraceMs: integer(env, "VA_SHUTDOWN_GRACE_MS", 10_000),
    maxRequestBytes: integer(env, "VA_MAX_REQUEST_BYTES", 1 << 20),
    corsOrigins: (env.VA_CORS_ORIGINS ?? (sandbox ? "*" : "")).split(",").filter(Boolean),
    logLevel: env.LOG_LEVEL ?? "info",
    operatorKey: operatorKey(env.VA_OPERATOR_KEY),
  };
}

function parseApiKeys(text: string): TenantKey[] {
  return text
    .split(",")
    .filter((entry) => entry.trim() !== "")
    .map((entry) => {
      const separator = entry.indexOf("=");
      const tenantId = entry.slice(0, separator).trim();
      const apiKey = entry.slice(separator + 1).trim();
      if (separator <= 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(tenantId) || apiKey.length < 8) {
        throw new Error("VA_API_KEYS entries must look like tenant=key with a key of at least 8 characters");
      }
      return { tenantId, apiKey };
    });
}

function operatorKey(text: string | undefined): string | undefined {
  if (text === undefined || text === "") return undefined;
  if (text.length < 16) throw new Error("VA_OPERATOR_KEY must be at least 16 characters");
  return text;
}

function parseRoutes(text: string): RoutingRules {
  const problem = "VA_ROUTES must be JSON like {\"tenant-or-*\": {\"BCA-or-*\": [\"winpay\", \"doku\"]}}";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(problem);
  }
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isRecord(parsed)) throw new Error(problem);
  for (const banks of Object.values(parsed)) {
    if (!isRecord(banks)) throw new Error(problem);
    for (const list of Object.values(banks)) {
      if (!Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === "string")) throw new Error(problem);
    }
  }
  return parsed as RoutingRules;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}
