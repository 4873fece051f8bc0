import { randomBytes } from "node:crypto";
import { pino } from "pino";
import type { RoutingRules } from "./app/provider-registry.js";
import { providersFromFile } from "./providers/configured.js";
import { type SnapBillerSettings, snapBillerSettingsFromEnv } from "./providers/snap-biller/settings.js";
import { SNAP_BILLER } from "./providers/snap-biller/wire.js";

export interface TenantKey {
  tenantId: string;
  apiKey: string;
}

export interface GatewayConfig {
  host: string;
  port: number;
  /** `postgres://` or `postgresql://` with a database name; unset: the embedded SQLite file. */
  databaseUrl: string | undefined;
  /** How long the start waits for a PostgreSQL that is down (retrying with backoff) before giving up. */
  databaseWaitMs: number;
  sqlitePath: string;
  apiKeys: TenantKey[];
  /** Sandbox mode: the sandbox provider runs against an in-process simulator and SimulatePayment works. */
  sandbox: boolean;
  defaultProvider: string;
  /** JSON file with real provider accounts (see `providers/configured.ts`); unset: none. */
  providersFile: string | undefined;
  /** Tenant (or `*`) → bank (or `*`) → providers to try in order; see docs/configuration.md. */
  routes: RoutingRules;
  /** The `snap-biller` provider (banks call our SNAP inquiry/payment); unset = off. See docs/configuration.md. */
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
  /** `json`, `pretty`, or unset: pretty on a terminal, JSON otherwise. */
  logFormat: "json" | "pretty" | undefined;
  /** Bearer key for the operator routes (`GET /operator/held-payments`); unset: those routes answer 403. */
  operatorKey: string | undefined;
}

/** The key printed at sandbox start when no keys are configured. Never valid outside sandbox mode. */
export const SANDBOX_DEMO_KEY = "sandbox-demo-key";

/**
 * A configuration problem: one line that starts with the variable's name and never shows a secret.
 * main.ts prints it and exits with status 2.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);
/** pino's levels, and `silent`. */
const LOG_LEVELS = [...Object.keys(pino.levels.values), "silent"];

/** Typed reads of environment variables. An empty value counts as unset. */
export class EnvReader {
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  text(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === "" ? undefined : value;
  }

  /** PEM text; `\n` escapes allowed, so a key fits on one line. */
  pem(name: string): string | undefined {
    return this.text(name)?.replaceAll("\\n", "\n");
  }

  boolean(name: string, fallback: boolean): boolean {
    const text = this.text(name);
    if (text === undefined) return fallback;
    const word = text.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    throw new ConfigError(`${name} must be true or false (or 1/0, yes/no, on/off), not ${JSON.stringify(text.slice(0, 40))}`);
  }

  integer(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
    const text = this.text(name);
    if (text === undefined) return fallback;
    const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
      throw new ConfigError(`${name} must be a whole number ${range}`);
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const text = this.text(name);
    if (text === undefined) return fallback;
    if (!allowed.includes(text as T))
      throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, not ${JSON.stringify(text.slice(0, 40))}`);
    return text as T;
  }
}

/** Reads the configuration from environment variables (documented in docs/configuration.md); throws ConfigError. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const read = new EnvReader(env);
  const sandbox = read.boolean("VA_SANDBOX", true);
  const apiKeys = parseApiKeys(read.text("VA_API_KEYS") ?? "");
  if (apiKeys.length === 0) {
    if (!sandbox) throw new ConfigError("VA_API_KEYS must be set outside sandbox mode (tenant=key,…)");
    apiKeys.push({ tenantId: "demo", apiKey: SANDBOX_DEMO_KEY });
  } else if (!sandbox && apiKeys.some((k) => k.apiKey === SANDBOX_DEMO_KEY)) {
    throw new ConfigError("VA_API_KEYS must not use the public sandbox demo key outside sandbox mode");
  }
  const providersFile = read.text("VA_PROVIDERS_FILE");
  const snapBiller = snapBillerSettingsFromEnv(env, sandbox);
  const routes = parseRoutes(read.text("VA_ROUTES") ?? "{}");
  const configured = [...(providersFile ? providerNamesIn(providersFile) : []), ...(snapBiller ? [SNAP_BILLER] : [])];
  return {
    host: read.text("HOST") ?? "127.0.0.1",
    port: read.integer("PORT", 8080, { max: 65_535 }),
    databaseUrl: postgresUrl(read.text("DATABASE_URL")),
    databaseWaitMs: read.integer("VA_DATABASE_WAIT_MS", 60_000),
    sqlitePath: read.text("SQLITE_PATH") ?? "data/va-gateway.sqlite",
    apiKeys,
    sandbox,
    defaultProvider: sandbox
      ? (read.text("VA_DEFAULT_PROVIDER") ?? "sandbox")
      : productionProviders(read.text("VA_DEFAULT_PROVIDER"), routes, configured),
    providersFile,
    routes,
    snapBiller,
    sandboxProvider: {
      merchantId: read.text("SANDBOX_MERCHANT_ID") ?? "M-SANDBOX",
      apiKey: read.text("SANDBOX_API_KEY") ?? randomBytes(24).toString("base64url"),
      webhookSecret: read.text("SANDBOX_WEBHOOK_SECRET") ?? randomBytes(32).toString("base64url"),
      simulatorUrl: read.text("SANDBOX_SIMULATOR_URL"),
    },
    heartbeatMs: read.integer("VA_HEARTBEAT_MS", 15_000, { min: 1 }),
    eventPollMs: read.integer("VA_EVENT_POLL_MS", 1_000, { min: 1 }),
    sweepIntervalMs: read.integer("VA_SWEEP_INTERVAL_MS", 10_000, { min: 1 }),
    reconcile: {
      beforeExpiryMs: read.integer("VA_RECONCILE_BEFORE_EXPIRY_MS", 10 * 60_000),
      afterExpiryMs: read.integer("VA_RECONCILE_AFTER_EXPIRY_MS", 24 * 3_600_000),
      baseDelayMs: read.integer("VA_RECONCILE_BASE_DELAY_MS", 30_000),
      maxDelayMs: read.integer("VA_RECONCILE_MAX_DELAY_MS", 30 * 60_000),
    },
    idempotencyRetentionMs: read.integer("VA_IDEMPOTENCY_RETENTION_MS", 48 * 3_600_000),
    healthPollMs: read.integer("VA_HEALTH_POLL_MS", 5_000, { min: 1 }),
    idempotencyLeaseMs: read.integer("VA_IDEMPOTENCY_LEASE_MS", 60_000),
    shutdownGraceMs: read.integer("VA_SHUTDOWN_GRACE_MS", 10_000),
    maxRequestBytes: read.integer("VA_MAX_REQUEST_BYTES", 1 << 20, { min: 1 }),
    corsOrigins: (read.text("VA_CORS_ORIGINS") ?? (sandbox ? "*" : ""))
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    logLevel: read.oneOf("LOG_LEVEL", LOG_LEVELS, "info"),
    logFormat: env.LOG_FORMAT ? read.oneOf("LOG_FORMAT", ["json", "pretty"] as const, "json") : undefined,
    operatorKey: operatorKey(read.text("VA_OPERATOR_KEY")),
  };
}

/** Without a password in any message: only the scheme is ever repeated back. */
function postgresUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const shape = "postgres://user:password@host:5432/database";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`DATABASE_URL must be a URL like ${shape}`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql:// (${url.protocol}// is not supported)`);
  }
  if (url.pathname.replace(/^\//, "") === "") throw new ConfigError(`DATABASE_URL must name the database: ${shape}`);
  return text;
}

/** Checks the providers file completely (every field, every key) so that a mistake stops the start here. */
function providerNamesIn(path: string): string[] {
  try {
    return providersFromFile(path, () => new Date()).map((p) => p.adapter.name);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/**
 * Outside sandbox only real providers exist: at least one must be configured, and the default and
 * every routed provider must be one of them. The default may be left out when there is only one.
 */
function productionProviders(defaultProvider: string | undefined, routes: RoutingRules, configured: string[]): string {
  if (configured.length === 0) {
    throw new ConfigError(
      "VA_PROVIDERS_FILE must list at least one provider outside sandbox mode (or set SNAP_BILLER_PARTNER_SERVICE_ID)",
    );
  }
  const known = `configured: ${configured.join(", ")}`;
  const chosen = defaultProvider ?? (configured.length === 1 ? configured[0] : undefined);
  if (chosen === undefined)
    throw new ConfigError(`VA_DEFAULT_PROVIDER must be set when several providers are configured (${known})`);
  if (!configured.includes(chosen))
    throw new ConfigError(`VA_DEFAULT_PROVIDER names "${chosen}", which is not configured (${known})`);
  for (const names of Object.values(routes).flatMap((banks) => Object.values(banks))) {
    const missing = names.find((name) => !configured.includes(name));
    if (missing !== undefined) throw new ConfigError(`VA_ROUTES names "${missing}", which is not configured (${known})`);
  }
  return chosen;
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
        throw new ConfigError("VA_API_KEYS entries must look like tenant=key with a key of at least 8 characters");
      }
      return { tenantId, apiKey };
    });
}

function operatorKey(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text.length < 16) throw new ConfigError("VA_OPERATOR_KEY must be at least 16 characters");
  return text;
}

function parseRoutes(text: string): RoutingRules {
  const problem = 'VA_ROUTES must be JSON like {"tenant-or-*": {"BCA-or-*": ["winpay", "doku"]}}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(problem);
  }
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isRecord(parsed)) throw new ConfigError(problem);
  for (const banks of Object.values(parsed)) {
    if (!isRecord(banks)) throw new ConfigError(problem);
    for (const list of Object.values(banks)) {
      if (!Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === "string")) throw new ConfigError(problem);
    }
  }
  return parsed as RoutingRules;
}
