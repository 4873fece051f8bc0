import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { SANDBOX_DEMO_KEY } from "../src/config.js";
import { vaClient } from "./support/clients.js";
import { createRequest } from "./support/fixtures.js";

describe("the compiled build", () => {
  it("`npm run build` writes dist/, and plain `node dist/main.js` serves the API, the page and the database", {
    timeout: 120_000,
  }, async () => {
    const build = spawnSync("npm", ["run", "build"], { encoding: "utf8", timeout: 100_000 });
    expect(build.status, build.stdout + build.stderr).toBe(0);
    for (const file of ["main.js", "persistence/wal-checkpoint-worker.mjs", "persistence/migrations/sqlite/index.js"]) {
      expect(existsSync(join("dist", file)), file).toBe(true);
    }

    // From another folder and without any TypeScript loader: only what the build wrote.
    const folder = mkdtempSync(join(tmpdir(), "va-dist-"));
    const { NODE_OPTIONS: _, ...env } = process.env;
    const child = spawn(process.execPath, [resolve("dist/main.js")], {
      cwd: folder,
      env: { ...env, PORT: "0", LOG_LEVEL: "info", SQLITE_PATH: join(folder, "va.sqlite") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      output += String(chunk);
    });
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    try {
      let url: string | undefined;
      for (let i = 0; i < 200 && url === undefined; i++) {
        url = /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1];
        if (url === undefined) await sleep(50);
      }
      expect(url, output).toBeDefined();
      const base = url ?? "";

      // The migrations ran: a VA can be created and read back.
      const client = vaClient(base, SANDBOX_DEMO_KEY);
      const { virtualAccount } = await client.createVirtualAccount(createRequest());
      const status = await client.getPaymentStatus({ virtualAccountId: virtualAccount?.id ?? "" });
      expect(status.virtualAccount?.id).toBe(virtualAccount?.id);

      // The page and its script are found from dist/.
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<html");
      const script = await fetch(`${base}/app.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get("content-type")).toContain("javascript");

      // The checkpoint thread started from dist/ (a missing worker file is reported as a failure).
      await sleep(1_500);
      expect(output).not.toContain("checkpoint failed");

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(output).not.toMatch(/"level":(50|60)/);
    } finally {
      child.kill("SIGKILL");
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
