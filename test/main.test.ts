import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SANDBOX_DEMO_KEY } from "../src/config.js";
import { vaClient } from "./support/clients.js";
import { createRequest } from "./support/fixtures.js";

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

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
