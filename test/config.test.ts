import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, configFromEnv, SANDBOX_DEMO_KEY } from "../src/config.js";

const folder = mkdtempSync(join(tmpdir(), "va-config-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(folder, name);
  writeFileSync(path, content);
  return path;
}

const durianpayFile = () =>
  file(
    "providers.json",
    JSON.stringify({ durianpay: { baseUrl: "https://api.example", serverKey: "dp_live_secret_value", providerAccount: "acme" } }),
  );

/** Outside sandbox, with keys and one real provider: the smallest production configuration. */
const production = () => ({ VA_SANDBOX: "false", VA_API_KEYS: "shop=0123456789abcdef", VA_PROVIDERS_FILE: durianpayFile() });

/** The ConfigError configFromEnv throws for `env` (fails the test when it does not throw one). */
function refusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    configFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain("\n");
    return error as ConfigError;
  }
  throw new Error("configFromEnv accepted the configuration");
}

describe("configuration", () => {
  it.each([
    ["true", true],
    ["TRUE", true],
    ["1", true],
    ["yes", true],
    ["On", true],
    ["false", false],
    ["FALSE", false],
    ["0", false],
    ["no", false],
    ["off", false],
    [" Off ", false],
  ])("reads VA_SANDBOX=%j as %s", (text, sandbox) => {
    expect(configFromEnv({ ...production(), VA_SANDBOX: text }).sandbox).toBe(sandbox);
  });

  it("refuses a boolean it cannot read, naming the variable", () => {
    expect(refusal({ VA_SANDBOX: "maybe" }).message).toMatch(/^VA_SANDBOX must be true or false .*"maybe"/);
    expect(refusal({ VA_SANDBOX: "2" }).message).toMatch(/^VA_SANDBOX /);
  });

  it("gives the demo key in sandbox mode only, and never accepts it outside", () => {
    expect(configFromEnv({}).apiKeys).toEqual([{ tenantId: "demo", apiKey: SANDBOX_DEMO_KEY }]);
    const outside = configFromEnv(production());
    expect(outside.apiKeys).toEqual([{ tenantId: "shop", apiKey: "0123456789abcdef" }]);
    expect(refusal({ ...production(), VA_API_KEYS: "" }).message).toMatch(/^VA_API_KEYS must be set outside sandbox/);
    expect(refusal({ ...production(), VA_API_KEYS: `shop=${SANDBOX_DEMO_KEY}` }).message).toMatch(
      /^VA_API_KEYS must not use the public sandbox demo key/,
    );
  });

  it("outside sandbox needs a configured provider, and defaults and routes only to configured ones", () => {
    const { VA_PROVIDERS_FILE: _, ...withoutProviders } = production();
    expect(refusal(withoutProviders).message).toMatch(/^VA_PROVIDERS_FILE must list at least one provider/);
    expect(refusal({ ...production(), VA_PROVIDERS_FILE: file("empty.json", "{}") }).message).toMatch(
      /^VA_PROVIDERS_FILE must list/,
    );
    expect(configFromEnv(production()).defaultProvider).toBe("durianpay");
    expect(refusal({ ...production(), VA_DEFAULT_PROVIDER: "sandbox" }).message).toBe(
      'VA_DEFAULT_PROVIDER names "sandbox", which is not configured (configured: durianpay)',
    );
    expect(refusal({ ...production(), VA_ROUTES: '{"*": {"BCA": ["durianpay", "winpay"]}}' }).message).toMatch(
      /^VA_ROUTES names "winpay"/,
    );
    const withBiller = {
      ...production(),
      SNAP_BILLER_PARTNER_SERVICE_ID: "22691",
      SNAP_BILLER_BANK_CODE: "BNI",
      SNAP_BILLER_BANK_PARTNER_ID: "BNI-01",
      SNAP_BILLER_BANK_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----",
    };
    expect(refusal(withBiller).message).toMatch(
      /^VA_DEFAULT_PROVIDER must be set when several providers are configured \(configured: durianpay, snap-biller\)/,
    );
    expect(configFromEnv({ ...withBiller, VA_DEFAULT_PROVIDER: "snap-biller" }).defaultProvider).toBe("snap-biller");
    const { VA_PROVIDERS_FILE: __, ...billerOnly } = withBiller;
    expect(configFromEnv(billerOnly).defaultProvider).toBe("snap-biller");
  });

  it("reports a providers file that cannot be read or used in one line, without its content", () => {
    expect(refusal({ VA_PROVIDERS_FILE: join(folder, "missing.json") }).message).toMatch(
      /^VA_PROVIDERS_FILE .*missing\.json cannot be read \(ENOENT\)$/,
    );
    expect(refusal({ VA_PROVIDERS_FILE: file("broken.json", '{"durianpay": {"serverKey": "dp_live_SECRET"') }).message).toMatch(
      /^VA_PROVIDERS_FILE .* is not valid JSON$/,
    );
    const missingField = refusal({
      VA_PROVIDERS_FILE: file("field.json", JSON.stringify({ durianpay: { serverKey: "dp_live_SECRET" } })),
    });
    expect(missingField.message).toBe("VA_PROVIDERS_FILE: durianpay.baseUrl must be a non-empty string");
    const badKey = refusal({
      VA_PROVIDERS_FILE: file(
        "key.json",
        JSON.stringify({
          winpay: { baseUrl: "https://x", partnerId: "P", privateKey: "-----SECRET-----", winpayPublicKey: "-----SECRET-----" },
        }),
      ),
    });
    expect(badKey.message).toMatch(/^VA_PROVIDERS_FILE: winpay: /);
    for (const error of [missingField, badKey]) expect(error.message).not.toContain("SECRET");
  });

  it("takes only a PostgreSQL URL that names a database, never repeating it", () => {
    expect(configFromEnv({ DATABASE_URL: "postgres://u:pw@db:5432/va" }).databaseUrl).toBe("postgres://u:pw@db:5432/va");
    expect(configFromEnv({ DATABASE_URL: "postgresql://u@db/va" }).databaseUrl).toBe("postgresql://u@db/va");
    expect(configFromEnv({ DATABASE_URL: "" }).databaseUrl).toBeUndefined();
    for (const [url, problem] of [
      [
        "mysql://root:hunter22@db/va",
        /^DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/ \(mysql:\/\/ is not supported\)$/,
      ],
      ["postgres://u:hunter22@db:5432", /^DATABASE_URL must name the database/],
      ["postgres://u:hunter22@db:5432/", /^DATABASE_URL must name the database/],
      ["hunter22", /^DATABASE_URL must be a URL/],
    ] as const) {
      const error = refusal({ DATABASE_URL: url });
      expect(error.message).toMatch(problem);
      expect(error.message).not.toContain("hunter22");
    }
  });

  it("takes only pino's log levels", () => {
    expect(configFromEnv({ LOG_LEVEL: "debug" }).logLevel).toBe("debug");
    expect(configFromEnv({ LOG_LEVEL: "silent" }).logLevel).toBe("silent");
    expect(refusal({ LOG_LEVEL: "verbose" }).message).toBe(
      'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, not "verbose"',
    );
  });

  it("takes json or pretty logs, and decides by the terminal when unset", () => {
    expect(configFromEnv({}).logFormat).toBeUndefined();
    expect(configFromEnv({ LOG_FORMAT: "pretty" }).logFormat).toBe("pretty");
    expect(refusal({ LOG_FORMAT: "xml" }).message).toBe('LOG_FORMAT must be one of json, pretty, not "xml"');
  });

  it("refuses numbers out of range, naming the variable", () => {
    expect(configFromEnv({ PORT: "9090", VA_DATABASE_WAIT_MS: "0" })).toMatchObject({ port: 9090, databaseWaitMs: 0 });
    expect(refusal({ PORT: "65536" }).message).toBe("PORT must be a whole number from 0 to 65535");
    expect(refusal({ VA_HEARTBEAT_MS: "1.5" }).message).toBe("VA_HEARTBEAT_MS must be a whole number of at least 1");
    expect(refusal({ VA_DATABASE_WAIT_MS: "-1" }).message).toMatch(/^VA_DATABASE_WAIT_MS /);
    expect(refusal({ VA_OPERATOR_KEY: "short" }).message).toMatch(/^VA_OPERATOR_KEY /);
  });

  it("names the SNAP biller variable that is wrong", () => {
    const biller = { SNAP_BILLER_PARTNER_SERVICE_ID: "22691" };
    expect(refusal({ SNAP_BILLER_PARTNER_SERVICE_ID: "1234567890" }).message).toBe(
      "SNAP_BILLER_PARTNER_SERVICE_ID must be 1-8 digits",
    );
    expect(refusal({ ...biller, SNAP_BILLER_CUSTOMER_NO_DIGITS: "19" }).message).toMatch(
      /^SNAP_BILLER_CUSTOMER_NO_DIGITS: .*6\.\.18/,
    );
    expect(refusal({ ...biller, SNAP_BILLER_TOKEN_SECRET: "short" }).message).toMatch(/^SNAP_BILLER_TOKEN_SECRET /);
    expect(refusal({ ...biller, SNAP_BILLER_INQUIRY_TIMEOUT_MS: "soon" }).message).toMatch(/^SNAP_BILLER_INQUIRY_TIMEOUT_MS /);
  });
});
