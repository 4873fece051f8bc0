import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Bench } from "../context.js";
import { log } from "../context.js";
import { type ProfileSummary, summarizeProfile } from "../profile-summary.js";
import { sqliteEnv, startServer, stopServer } from "../servers.js";
import { runAnchors } from "./anchors.js";
import { callbacksRow } from "./callbacks.js";
import { createRow } from "./create.js";
import { inquiryRows } from "./inquiry.js";
import { streamsId, streamsRow } from "./streams.js";

/** One scenario with the server under `node --cpu-prof`; where its measured window spent the time. */
export async function profileRun(bench: Bench, scenario: string): Promise<ProfileSummary> {
  const { options } = bench;
  // One directory per run: Node writes one profile per thread (tsx's loader-hooks thread too),
  // named CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; the main thread is thread id 0.
  const dir = join(options.artifacts, "profiles", `${scenario}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(dir, { recursive: true });
  const execArgv = ["--cpu-prof", `--cpu-prof-dir=${dir}`];
  log(`profiling ${scenario} (node --cpu-prof; figures under the profiler are not comparable to the plain run)`);
  if (scenario.startsWith("anchor-")) {
    await runAnchors(bench, execArgv, scenario);
  } else if (scenario.startsWith("streams-")) {
    const count = options.subscriberCounts.find((n) => streamsId(n) === scenario);
    if (count === undefined) throw new Error(`${scenario}: pass --subscribers with its count`);
    await streamsRow(bench, count, execArgv);
  } else {
    const server = await startServer(options, `profile-${scenario}`, "gateway", sqliteEnv(options, "profile"), execArgv);
    try {
      if (scenario === "inquiry-grpc" || scenario === "inquiry-connect") {
        await inquiryRows(bench, server, [scenario === "inquiry-grpc" ? "grpc" : "connect"]);
      } else if (scenario === "create-sqlite") {
        await createRow(bench, "create-sqlite", "create", "CreateVirtualAccount, SQLite (under --cpu-prof)", [server], false);
      } else if (scenario === "callbacks-sqlite") {
        await callbacksRow(bench, "callbacks-sqlite", "callbacks, SQLite (under --cpu-prof)", server, false);
      } else {
        throw new Error(`cannot profile ${scenario}`);
      }
    } finally {
      await stopServer(server);
    }
  }
  const main = readdirSync(dir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!main) throw new Error(`no main-thread profile written in ${dir}`);
  // Only the measured window: no start-up (module loading under tsx is seconds of CPU), no warm-up.
  return summarizeProfile(join(dir, main), 30, bench.lastWindow);
}
