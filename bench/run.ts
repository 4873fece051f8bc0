/**
 * `npm run bench`: starts everything on loopback and measures, in one run, side by side:
 *
 * - anchors: bare @grpc/grpc-js and bare @connectrpc/connect-node unary echo, loaded by h2load
 * - the service: InquiryVirtualAccount over gRPC and Connect (h2load), CreateVirtualAccount on SQLite
 *   and PostgreSQL (Node load generator: every create needs its own idempotency key), signed
 *   sandbox callbacks ingested per second
 * - streams: N live subscribers, M payments per second, callback-to-subscriber latency, server RSS
 * - scale-out: two service processes on one PostgreSQL versus one, for create
 * - event appends on PostgreSQL: 16 writers, the shipped append against the same transaction unordered
 *
 * It prints a table and writes machine-readable JSON (default artifacts/bench.json).
 * `--profile` instead runs InquiryVirtualAccount over gRPC with the service under `node --cpu-prof`
 * and prints where the time goes. See README "Benchmarks" and `--help`.
 *
 * options.ts reads the command line; scenarios/ measure (one module per kind of row); report.ts
 * turns the rows into ratios, targets, the table and the JSON.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { Bench, log } from "./context.js";
import { h2loadVersion } from "./h2load.js";
import { type BenchOptions, CALLBACKS, CREATE, EVENT_APPENDS, H2, readOptions, STREAMS_PER_CONNECTION } from "./options.js";
import { formatProfileSummary, type ProfileSummary } from "./profile-summary.js";
import { ratios, table, targets } from "./report.js";
import { runAnchors } from "./scenarios/anchors.js";
import { runEventAppends } from "./scenarios/event-append.js";
import { profileRun } from "./scenarios/profile.js";
import { runPostgresService, runSqliteService } from "./scenarios/service.js";
import { runStreams } from "./scenarios/streams.js";
import { round } from "./stats.js";
import { BENCH_NICE, raisePriority } from "./system.js";

/** The rows h2load loads (the rest bring their own load generators). */
const H2LOAD_ROWS = [
  ["anchor-grpc-js", "anchors"],
  ["anchor-connect", "anchors"],
  ["inquiry-grpc", "inquiry"],
  ["inquiry-connect", "inquiry"],
] as const;

async function main(options: BenchOptions): Promise<void> {
  const bench = new Bench(options);
  const h2load = h2loadVersion();
  const needsH2load = options.profileScenario
    ? H2LOAD_ROWS.some(([id]) => id === options.profileScenario)
    : H2LOAD_ROWS.some(([id, group]) => bench.selected(id, group));
  if (!h2load && needsH2load) {
    console.error(
      "bench: h2load not found. It is the HTTP/2 load generator of nghttp2; install it with\n\n" +
        "    apt-get install nghttp2-client\n\n(Debian/Ubuntu; other systems: the nghttp2 package), then run `npm run bench` again.",
    );
    process.exit(2);
  }
  const prioritised = raisePriority(process.pid);
  if (!prioritised) log(`cannot raise priority to nice ${BENCH_NICE} (not root?): figures will be noisier on a busy machine`);
  mkdirSync(options.artifacts, { recursive: true });
  rmSync(options.work, { recursive: true, force: true });
  mkdirSync(options.work, { recursive: true });
  const startedAt = new Date();
  const t0 = performance.now();
  let profile: ProfileSummary | undefined;
  process.once("SIGINT", () => {
    bench.postgres.dropAll().finally(() => process.exit(130));
  });
  try {
    if (options.profileScenario) {
      profile = await profileRun(bench, options.profileScenario);
    } else {
      await runAnchors(bench);
      await runSqliteService(bench);
      await runPostgresService(bench);
      await runEventAppends(bench);
      await runStreams(bench);
    }
  } finally {
    await bench.postgres.dropAll();
  }
  const { results } = bench;
  ratios(results);
  const checks = options.profileScenario ? [] : targets(results);
  const report = {
    startedAt: startedAt.toISOString(),
    elapsedSeconds: round((performance.now() - t0) / 1000, 1),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      node: process.version,
      h2load,
      loadAverageAtEnd: loadavg(),
      benchNice: prioritised ? BENCH_NICE : 0,
    },
    options: {
      quick: options.quick,
      durationS: options.durationS,
      warmupS: options.warmupS,
      h2load: H2,
      create: CREATE,
      callbacks: CALLBACKS,
      eventAppends: EVENT_APPENDS,
      subscribers: options.subscriberCounts,
      streamsPerConnection: STREAMS_PER_CONNECTION,
      paymentsPerSecond: options.paymentRate,
      streamSeconds: options.streamSeconds,
      profile: options.profileScenario,
    },
    results,
    targets: checks,
    ...(profile ? { profile } : {}),
  };
  const out = options.profileScenario && !options.outGiven ? join(options.artifacts, "bench-profile.json") : options.out;
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(
    `\nva-gateway bench — ${startedAt.toISOString()}, ${cpus().length} CPUs, Node ${process.version}, ${h2load ?? "no h2load"}`,
  );
  console.log(
    `${options.durationS}s measured after ${options.warmupS}s warm-up per row; everything on loopback, sharing the same cores\n`,
  );
  console.log(table(results));
  if (checks.length > 0) {
    console.log('\ntargets (issue "Performance: npm run bench"):');
    for (const c of checks) {
      const mark = c.pass === undefined ? "  ·  " : c.pass ? "PASS " : "FAIL ";
      console.log(`  ${mark} ${c.target}: ${c.measured}`);
    }
  }
  if (profile) console.log(`\n${formatProfileSummary(profile)}`);
  console.log(`\nJSON: ${relative(process.cwd(), out) || out}   (logs: ${relative(process.cwd(), options.work)})`);
}

const options = readOptions();
if (options) {
  main(options).catch(async (error: unknown) => {
    console.error(`bench failed: ${(error as Error)?.stack ?? error}`);
    process.exit(1);
  });
}
