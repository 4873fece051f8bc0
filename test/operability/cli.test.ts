import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vaClient } from "../support/clients.js";
import { createRequest } from "../support/fixtures.js";
import { startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function finished(child: ChildProcess): Promise<Finished> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The `va` bin entry, as a user runs it (env: no VA_URL/VA_API_KEY unless given). */
function spawnVa(args: string[], env: Record<string, string> = {}): ChildProcess {
  const { VA_URL: _url, VA_API_KEY: _key, ...inherited } = process.env;
  return spawn(process.execPath, [`${ROOT}bin/va.mjs`, ...args], { cwd: ROOT, env: { ...inherited, ...env } });
}

const va = (args: string[], env?: Record<string, string>) => finished(spawnVa(args, env));

// Every command is a fresh Node process (~1 s of CPU to load tsx and the generated code), so allow
// for a busy machine.
describe("va CLI against a running gateway", { timeout: 120_000 }, () => {
  let gateway: TestGateway;
  let common: string[];

  beforeAll(async () => {
    gateway = await startTestGateway({ dialect: "sqlite" });
    common = ["--url", gateway.url, "--key", TENANTS.alpha.apiKey];
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("create → watch (live) → simulate → status, in text and JSON", async () => {
    const created = await va([
      "create",
      "--bank",
      "BRI",
      "--amount",
      "75000",
      "--name",
      "Budi Santoso",
      "--reference",
      "cli-order-1",
      ...common,
    ]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const id = /^(va_[0-9a-f]{32}) {2}ACTIVE$/m.exec(created.stdout)?.[1] ?? "";
    expect(id).not.toBe("");
    expect(created.stdout).toMatch(/VA number {3}[0-9]{8,23}\n/);
    expect(created.stdout).toContain("Rp 75.000 (fixed), single use");

    // Watch first; pay once the stream has shown the creation event.
    const watcher = spawnVa(["watch", id, "--json", "--count", "1", ...common]);
    const watching = finished(watcher);
    const firstLine = new Promise<string>((resolve) => {
      let seen = "";
      watcher.stdout?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes("\n")) resolve(seen.split("\n")[0] ?? "");
      });
    });
    expect(JSON.parse(await firstLine).type).toBe("EVENT_TYPE_VIRTUAL_ACCOUNT_CREATED");
    const simulated = await va(["simulate", id, "--json", ...common]);
    expect(simulated.code).toBe(0);
    const { providerPaymentReference } = JSON.parse(simulated.stdout);
    const watched = await watching;
    expect(watched.code).toBe(0);
    const events = watched.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events.map((e) => e.type)).toEqual(["EVENT_TYPE_VIRTUAL_ACCOUNT_CREATED", "EVENT_TYPE_PAYMENT_RECEIVED"]);
    expect(events[1].payment).toMatchObject({ amount: "75000", outcome: "PAYMENT_OUTCOME_ACCEPTED", providerPaymentReference });

    const status = await va(["status", id, ...common]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${id}  COMPLETED`);
    expect(status.stdout).toMatch(/pay_[0-9a-f]{32} {2}Rp 75\.000 {2}ACCEPTED {2}fee Rp [0-9.]+ {2}net Rp [0-9.]+/);

    // The replayed stream in text form, and the key taken from VA_API_KEY.
    const replay = await va(["watch", id, "--count", "1", "--url", gateway.url], { VA_API_KEY: TENANTS.alpha.apiKey });
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/^#\d+ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d {2}VIRTUAL_ACCOUNT_CREATED {2}va_/m);
    expect(replay.stdout).toMatch(
      /PAYMENT_RECEIVED {2}va_\S+ {2}Rp 75\.000 \(fee Rp [0-9.]+, net Rp [0-9.]+\) ACCEPTED {2}→ COMPLETED/,
    );
  });

  it("takes options before the command, shows local times, labels a late payment, and ends watch --count after N payments", async () => {
    const before = [`--url=${gateway.url}`, "--key", TENANTS.alpha.apiKey];
    const created = await va([...before, "--json", "create", "--bank", "BNI", "--amount", "5000", "--name", "Late Payer"]);
    expect(created.code, created.stderr).toBe(0);
    const { id, expiresAt } = JSON.parse(created.stdout).virtualAccount as { id: string; expiresAt: string };
    expect((await va([...before, "cancel", id])).code).toBe(0);

    // From the first event: the replay (created, cancelled) counts no payment, so watch waits for one.
    const watching = va([...before, "watch", id, "--count", "1"], { TZ: "Asia/Jakarta" });
    expect((await va([...before, "simulate", id])).code).toBe(0);
    const watched = await watching;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stderr).toContain(`watching ${id}… (until 1 payment or Ctrl-C)`);
    const lines = watched.stdout.trim().split("\n");
    expect(lines.map((line) => line.split("  ")[2])).toEqual([
      "VIRTUAL_ACCOUNT_CREATED",
      "VIRTUAL_ACCOUNT_CANCELLED",
      "PAYMENT_RECEIVED",
    ]);
    const late = "LATE (arrived after the VA expired or was cancelled; recorded, the VA stays closed)";
    expect(lines[2]).toMatch(/ {2}Rp 5\.000 \(fee Rp [0-9.]+, net Rp [0-9.]+\) LATE \(.*\) {2}→ CANCELLED$/);
    expect(lines[2]).toContain(late);
    for (const line of lines) expect(line).toMatch(/^#\d+ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+07:00 {2}/);

    // The same instant as the JSON's UTC timestamp, shown in the zone TZ names.
    const jakarta = new Date(Date.parse(expiresAt) + 7 * 3_600_000).toISOString();
    const status = await va(["status", id, ...before], { TZ: "Asia/Jakarta" });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`expires     ${jakarta.slice(0, 10)} ${jakarta.slice(11, 19)} +07:00`);
    expect(status.stdout).toContain(`Rp 5.000  ${late}`);
    const utc = await va(["status", id, ...before], { TZ: "UTC" });
    expect(utc.stdout).toContain(`expires     ${expiresAt.slice(0, 10)} ${expiresAt.slice(11, 19)} +00:00`);
  });

  it("inquiry and cancel (idempotent), also through npm run cli", async () => {
    const created = JSON.parse(
      (await va(["create", "--bank", "BNI", "--open", "--usage", "multi", "--name", "Siti", "--json", ...common])).stdout,
    );
    const id: string = created.virtualAccount.id;
    const inquiry = await finished(
      spawn("npm", ["run", "--silent", "cli", "--", "inquiry", id, "--json", ...common], { cwd: ROOT, env: process.env }),
    );
    expect(inquiry.code).toBe(0);
    expect(JSON.parse(inquiry.stdout).virtualAccount).toMatchObject({ id, bankCode: "BNI", usage: "VA_USAGE_MULTI" });

    const cancel = ["cancel", id, "--reason", "order withdrawn", "--idempotency-key", "cli-cancel-1", ...common];
    const first = await va(cancel);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`${id}  CANCELLED`);
    const again = await va(cancel);
    expect(again.stdout).toContain("(replayed: stored answer for this idempotency key)");
  });

  it("list: newest first, filtered, one page and its token, or every page with --all", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const reference = `cli-list-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { virtualAccount } = await client.createVirtualAccount(
        createRequest({ bankCode: "BNI", merchantReference: reference }),
      );
      ids.unshift(virtualAccount?.id ?? "");
    }
    const [page, all, badStatus] = await Promise.all([
      va(["list", "--reference", reference, "--bank", "BNI", "--status", "active", "--limit", "2", ...common]),
      va(["list", "--reference", reference, "--limit", "2", "--all", "--json", ...common]),
      va(["list", "--status", "open", ...common]),
    ]);
    expect(page.code, page.stderr).toBe(0);
    expect(
      page.stdout
        .trim()
        .split("\n")
        .map((line) => line.split("  ")[0]),
    ).toEqual(ids.slice(0, 2));
    expect(page.stdout).toMatch(/ {2}ACTIVE {2}BNI\/sandbox {2}[0-9]+ {2}Rp 25\.000 \(fixed\) {2}cli-list-/);
    const token = /^more: add --page-token (\S+) \(or --all\)$/m.exec(page.stderr)?.[1] ?? "";
    expect(token).not.toBe("");
    const rest = await va([
      "list",
      "--reference",
      reference,
      "--bank",
      "BNI",
      "--status",
      "active",
      "--page-token",
      token,
      ...common,
    ]);
    expect(
      rest.stdout
        .trim()
        .split("\n")
        .map((line) => line.split("  ")[0]),
    ).toEqual(ids.slice(2));
    expect(rest.stderr).toBe("");

    expect(all.code, all.stderr).toBe(0);
    const pages = all.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { virtualAccounts: { id: string }[]; nextPageToken?: string });
    expect(pages.flatMap((p) => p.virtualAccounts.map((v) => v.id))).toEqual(ids);
    expect(pages.at(-1)?.nextPageToken).toBeUndefined();

    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain(
      '--status takes active, inquired, paid, completed, expired, cancelled (comma-separated), got "open"',
    );
  });

  it("prints code, message and field, and exits non-zero, when the gateway refuses", async () => {
    // Independent processes: run them side by side.
    const zeroId = `va_${"0".repeat(32)}`;
    const [invalid, invalidJson, missing, badKey, down] = await Promise.all([
      va(["create", "--bank", "bca", "--amount", "10000", "--name", "Budi", ...common]),
      va(["create", "--bank", "bca", "--amount", "10000", "--name", "Budi", "--json", ...common]),
      va(["inquiry", zeroId, ...common]),
      va(["inquiry", zeroId, "--url", gateway.url, "--key", "not-a-key"]),
      va(["inquiry", zeroId, "--url", "http://127.0.0.1:1"]),
    ]);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toBe("");
    expect(invalid.stderr).toMatch(/^va: invalid_argument: bank_code must match the pattern .*\.\nfield: bank_code\n/);

    expect(invalidJson.code).toBe(1);
    expect(JSON.parse(invalidJson.stderr).error).toMatchObject({
      code: "invalid_argument",
      field: "bank_code",
      violations: [{ field: "bank_code", rule: "string.pattern" }],
    });

    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("va: not_found:");

    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain("va: unauthenticated: invalid API key");

    expect(down.code).toBe(1);
    expect(down.stderr).toContain("va: unavailable:");
    expect(down.stderr).toContain("is the gateway running at http://127.0.0.1:1?");
  });

  it("rejects a bad command line with exit status 2 and says why", async () => {
    const cases: [string[], string][] = [
      [["create", "--bank", "BCA", "--name", "Budi"], "exactly one of --amount N, --open, or --min N --max N"],
      [["create", "--bank", "BCA", "--name", "Budi", "--amount", "12.5"], '--amount must be a whole number, got "12.5"'],
      [["status"], "expected exactly one VA id"],
      [["frobnicate"], 'unknown command "frobnicate"'],
      [["inquiry", "va_1", "--colour"], "Unknown option '--colour'"],
      [["--colour", "inquiry", "va_1"], 'unknown option "--colour" before the command'],
      [["--timeout", "5000"], "usage: va [options] <command>"],
    ];
    const [help, helpAfterOptions, ...results] = await Promise.all([
      va(["--help"]),
      va(["--url", gateway.url, "--help"]),
      ...cases.map(([args]) => va([...args, "--url", gateway.url])),
    ]);
    cases.forEach(([args, message], i) => {
      expect(results[i]?.code, args.join(" ")).toBe(2);
      expect(results[i]?.stderr, args.join(" ")).toContain(message);
    });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: va [options] <command>");
    expect(helpAfterOptions.code).toBe(0);
    expect(helpAfterOptions.stdout).toContain("usage: va [options] <command>");
  });
});
