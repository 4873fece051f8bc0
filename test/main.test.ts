import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { SANDBOX_DEMO_KEY } from "../src/config.js";
import { vaClient } from "./support/clients.js";
import { POSTGRES_ADMIN_URL, postgresUnavailableReason } from "./support/databases.js";
import { createRequest } from "./support/fixtures.js";

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
/** `npm start` runs in its own process group, so a failed test can still end all it started. */
const groups: number[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  for (const group of groups.splice(0)) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Runs the entry point until it exits by itself (a refused start), with its exit status and output. */
async function runToExit(env: Record<string, string>): Promise<{ status: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", SQLITE_PATH: ":memory:", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { status, stderr, stdout };
}

/** A loopback port nobody listens on (just released by the OS). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  return false;
}

/** Runs `npm start`'s entry point as a real process on a random port. */
async function startProcess(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) {
        clearInterval(timer);
        resolve(match[1]);
      }
    }, 50);
    exited.then(() => {
      clearInterval(timer);
      reject(new Error(`process exited before listening:\n${output}`));
    });
  });
  return { child, url, output: () => output, exited };
}

describe("the service process", () => {
  it("creates its SQLite file on first start, prints the demo key, and drains streams on SIGTERM", async () => {
    const folder = mkdtempSync(join(tmpdir(), "va-main-"));
    const sqlitePath = join(folder, "data", "va.sqlite");
    try {
      const started = await startProcess({ SQLITE_PATH: sqlitePath });
      expect(existsSync(sqlitePath)).toBe(true);
      expect(started.output()).toContain(`Bearer ${SANDBOX_DEMO_KEY}`);

      const client = vaClient(started.url, SANDBOX_DEMO_KEY, "grpc");
      const { virtualAccount } = await client.createVirtualAccount(createRequest());
      const stream = client.streamPaymentEvents({ filter: { case: "virtualAccountId", value: virtualAccount?.id ?? "" } });
      const iterator = stream[Symbol.asyncIterator]();
      expect((await iterator.next()).value?.kind.case).toBe("event");

      started.child.kill("SIGTERM");
      // The open stream ends (with an error or cleanly) instead of hanging, and the process exits 0.
      const ending = await iterator.next().then(
        (r) => (r.done ? "ended" : "message"),
        () => "ended",
      );
      expect(ending).toBe("ended");
      expect(await started.exited).toBe(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("refuses to start outside sandbox mode without API keys, with a clear message", async () => {
    await expect(startProcess({ VA_SANDBOX: "false", VA_API_KEYS: "" })).rejects.toThrow(/VA_API_KEYS must be set/);
  });

  it("stops the server when the process `npm start` launched is signalled", async () => {
    const folder = mkdtempSync(join(tmpdir(), "va-main-"));
    const port = await freePort();
    try {
      const npm = spawn("npm", ["start"], {
        env: { ...process.env, PORT: String(port), SQLITE_PATH: join(folder, "va.sqlite") },
        stdio: "ignore",
        detached: true,
      });
      if (npm.pid !== undefined) groups.push(npm.pid);
      expect(await until(() => accepts(port), 20_000)).toBe(true);
      process.kill(npm.pid ?? 0, "SIGTERM");
      expect(await until(async () => !(await accepts(port)), 15_000)).toBe(true);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("reports a port already in use without a stack trace", async () => {
    const folder = mkdtempSync(join(tmpdir(), "va-main-"));
    try {
      const first = await startProcess({ SQLITE_PATH: join(folder, "a.sqlite") });
      const port = new URL(first.url).port;
      const error = await startProcess({ SQLITE_PATH: join(folder, "b.sqlite"), PORT: port }).catch((e: Error) => e);
      expect(String(error)).toContain("EADDRINUSE");
      expect(String(error)).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

/** Every refusal: one line on stderr that names the variable, exit status 2, no stack, no secret. */
function expectConfigError(run: { status: number | null; stderr: string; stdout: string }, variable: string): void {
  expect(run.status).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(new RegExp(`^va-gateway: configuration error: ${variable}\\b[^\\n]*\\n$`));
}

describe("the service process refuses a configuration that cannot be right", () => {
  it("in one line naming the variable, with exit status 2", async () => {
    const folder = mkdtempSync(join(tmpdir(), "va-main-"));
    try {
      const cases: [Record<string, string>, string][] = [
        [{ VA_SANDBOX: "off", VA_API_KEYS: "" }, "VA_API_KEYS"],
        [{ VA_SANDBOX: "maybe" }, "VA_SANDBOX"],
        [{ VA_SANDBOX: "FALSE", VA_API_KEYS: "shop=0123456789abcdef" }, "VA_PROVIDERS_FILE"],
        [{ LOG_LEVEL: "verbose" }, "LOG_LEVEL"],
        [{ DATABASE_URL: "mysql://root:hunter22@127.0.0.1/va" }, "DATABASE_URL"],
        [{ VA_PROVIDERS_FILE: join(folder, "missing.json") }, "VA_PROVIDERS_FILE"],
      ];
      const runs = await Promise.all(cases.map(async ([env, variable]) => ({ variable, run: await runToExit(env) })));
      for (const { variable, run } of runs) expectConfigError(run, variable);
      expect(runs.map(({ run }) => run.stderr).join("")).not.toContain("hunter22");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("starts outside sandbox with keys and a provider, and then has no demo key and no simulator", async () => {
    const folder = mkdtempSync(join(tmpdir(), "va-main-"));
    try {
      const providers = join(folder, "providers.json");
      writeFileSync(
        providers,
        JSON.stringify({
          durianpay: { baseUrl: "http://127.0.0.1:9", serverKey: "dp_live_0123456789", providerAccount: "acme" },
        }),
      );
      const started = await startProcess({
        VA_SANDBOX: "no",
        VA_API_KEYS: "shop=0123456789abcdef",
        VA_PROVIDERS_FILE: providers,
        SQLITE_PATH: join(folder, "va.sqlite"),
      });
      expect(started.output()).toContain('"sandbox":false');
      expect(started.output()).not.toContain(SANDBOX_DEMO_KEY);
      const refused = await vaClient(started.url, SANDBOX_DEMO_KEY)
        .getCapabilities({})
        .catch((e: unknown) => ConnectError.from(e));
      expect(refused).toMatchObject({ code: Code.Unauthenticated });
      const capabilities = await vaClient(started.url, "0123456789abcdef").getCapabilities({});
      expect(capabilities.providers.map((p) => p.provider)).toEqual(["durianpay"]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe.skipIf(await postgresUnavailableReason())("the service process on PostgreSQL", () => {
  const urlFor = (database: string, port?: number) => {
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${database}`;
    url.password = "hunter22";
    if (port !== undefined) url.port = String(port);
    return url.toString();
  };
  const databaseExists = async (name: string) => {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await client.connect();
    try {
      return (await client.query("select 1 from pg_database where datname = $1", [name])).rowCount === 1;
    } finally {
      await client.end();
    }
  };

  it("outside sandbox refuses a database that does not exist, and does not create it", async () => {
    const folder = mkdtempSync(join(tmpdir(), "va-main-"));
    const database = `va_missing_${process.pid}`;
    try {
      const providers = join(folder, "providers.json");
      writeFileSync(
        providers,
        JSON.stringify({
          durianpay: { baseUrl: "http://127.0.0.1:9", serverKey: "dp_live_0123456789", providerAccount: "acme" },
        }),
      );
      const run = await runToExit({
        VA_SANDBOX: "false",
        VA_API_KEYS: "shop=0123456789abcdef",
        VA_PROVIDERS_FILE: providers,
        DATABASE_URL: urlFor(database),
      });
      expectConfigError(run, "DATABASE_URL");
      expect(run.stderr).toContain(`"${database}", which does not exist`);
      expect(run.stderr).not.toContain("hunter22");
      expect(await databaseExists(database)).toBe(false);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("waits for a database that is down, saying so once per attempt, then gives up in one line", async () => {
    const port = await freePort();
    const started = Date.now();
    const run = await runToExit({ DATABASE_URL: urlFor("va", port), VA_DATABASE_WAIT_MS: "2000" });
    expect(Date.now() - started).toBeGreaterThan(1_500);
    expect(run.status).toBe(1);
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    const retries = lines.filter((line) => line.level === 40);
    expect(retries.length).toBeGreaterThanOrEqual(2);
    for (const retry of retries)
      expect(retry.msg).toMatch(
        new RegExp(
          `^PostgreSQL at 127\\.0\\.0\\.1:${port} is not reachable \\(ECONNREFUSED\\); attempt \\d+, retrying in \\d+ ms$`,
        ),
      );
    expect(lines.at(-1)).toMatchObject({
      level: 60,
      msg: expect.stringMatching(new RegExp(`^could not start: PostgreSQL at 127\\.0\\.0\\.1:${port} is not reachable`)),
    });
    expect(run.stdout + run.stderr).not.toContain("hunter22");
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /);
  });
});
