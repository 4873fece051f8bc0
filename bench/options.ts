import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** What `npm run bench` was asked to do, and the fixed load shapes of its rows. */

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const BENCH = join(ROOT, "bench");

const HELP = `npm run bench -- [options]

  --quick                 short run (~1.5 min): 3 s per measurement, 1 s warm-up, streams with 0 and 1k subscribers
  --duration=S            seconds measured per scenario (default 10)
  --warmup=S              warm-up seconds before each measurement (default 2)
  --only=LIST             comma-separated scenario ids or groups:
                          anchors, inquiry, create, callbacks, streams, scaleout, events
                          (ids: anchor-grpc-js, anchor-connect, inquiry-grpc, inquiry-connect,
                          create-sqlite, create-postgres, create-postgres-2x, callbacks-sqlite,
                          callbacks-postgres, streams-<N>, event-append-unordered, event-append)
  --subscribers=LIST      stream subscriber counts (default 0,10000,50000; 0 is the baseline the
                          10k row's CPU per payment is compared with)
  --rate=N                payments per second during the stream test (default 200)
  --out=PATH              JSON output (default artifacts/bench.json)
  --profile               instead: profile the service (node --cpu-prof) under the InquiryVirtualAccount
                          gRPC load and print self time by function and package
  --profile-scenario=ID   profile another scenario: inquiry-grpc, inquiry-connect, create-sqlite,
                          callbacks-sqlite, anchor-connect, anchor-grpc-js, streams-<N>
  --help

PostgreSQL: VA_BENCH_POSTGRES_URL (else VA_TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test);
throwaway databases are created there and dropped. Unreachable: PostgreSQL scenarios are skipped.
Requires h2load (apt-get install nghttp2-client).`;

export type Group = "anchors" | "inquiry" | "create" | "callbacks" | "streams" | "scaleout" | "events";

export interface BenchOptions {
  quick: boolean;
  durationS: number;
  warmupS: number;
  subscriberCounts: number[];
  paymentRate: number;
  streamSeconds: number;
  /** JSON report path; `outGiven` when --out was passed. */
  out: string;
  outGiven: boolean;
  artifacts: string;
  /** Logs, bodies and SQLite files of this run (emptied at start). */
  work: string;
  profileScenario: string | undefined;
  postgresAdminUrl: string;
  only: string[] | undefined;
  /** How long opening the streams may take, and how long after the last send callbacks may drain. */
  subscribeDeadlineMs: number;
  drainMs: number;
}

/** The options, or undefined after printing the help. */
export function readOptions(args: string[] = process.argv.slice(2)): BenchOptions | undefined {
  const { values: flags } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      duration: { type: "string" },
      warmup: { type: "string" },
      only: { type: "string" },
      subscribers: { type: "string" },
      rate: { type: "string" },
      out: { type: "string" },
      profile: { type: "boolean", default: false },
      "profile-scenario": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (flags.help) {
    console.log(HELP);
    return undefined;
  }
  const quick = flags.quick === true;
  const durationS = Number(flags.duration ?? (quick ? 3 : 10));
  const out = resolve(flags.out ?? join(ROOT, "artifacts", "bench.json"));
  const artifacts = dirname(out);
  return {
    quick,
    durationS,
    warmupS: Number(flags.warmup ?? (quick ? 1 : 2)),
    subscriberCounts: (flags.subscribers ?? (quick ? "0,1000" : "0,10000,50000")).split(",").map(Number),
    paymentRate: Number(flags.rate ?? 200),
    streamSeconds: quick ? 4 : durationS,
    out,
    outGiven: flags.out !== undefined,
    artifacts,
    work: join(artifacts, "bench-work"),
    profileScenario: flags["profile-scenario"] ?? (flags.profile ? "inquiry-grpc" : undefined),
    postgresAdminUrl:
      process.env.VA_BENCH_POSTGRES_URL ?? process.env.VA_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    only: flags.only?.split(",").map((s) => s.trim()),
    subscribeDeadlineMs: quick ? 45_000 : 90_000,
    drainMs: quick ? 8_000 : 15_000,
  };
}

/** h2load load shape for every h2load row. */
export const H2 = { connections: 8, streams: 4 };
/** Node load generator shape for create: 32 calls in flight over 4 HTTP/2 connections. */
export const CREATE = { concurrency: 32, connections: 4 };
/** Callback ingestion: 32 POSTs in flight over up to 32 keep-alive HTTP/1.1 connections. */
export const CALLBACKS = { concurrency: 32, vas: 1000 };
/** Event appends: 16 writers, each transaction one VA update and one event, over this many VAs. */
export const EVENT_APPENDS = { writers: 16, vas: 1000 };
export const STREAMS_PER_CONNECTION = 100;
/** Streams opened at a time (whole connections), each batch once the previous is live. */
export const SUBSCRIBE_BATCH = 1000;

export const API_KEY = "bench-key-0123456789";
export const TENANT = "bench";
/** The sandbox provider's secrets, new for every run. */
export const SANDBOX = {
  merchantId: "M-BENCH",
  apiKey: `bench-provider-${randomBytes(8).toString("hex")}`,
  webhookSecret: randomBytes(32).toString("base64url"),
};
