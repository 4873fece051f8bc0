/**
 * `npm run bench`: starts everything on loopback and measures, in one run, side by side:
 *
 * - anchors: bare @grpc/grpc-js and bare @connectrpc/connect-node unary echo, loaded by h2load
 * - the service: InquiryVirtualAccount over gRPC and Connect (h2load), CreateVirtualAccount on SQLite
 *   and PostgreSQL (Node load generator: every create needs its own idempotency key), signed
 *   sandbox callbacks ingested per second
 * - streams: N live subscribers, M payments per second, callback-to-subscriber latency, server RSS
 * - scale-out: two service processes on one PostgreSQL versus one, for create
 *
 * It prints a table and writes machine-readable JSON (default artifacts/bench.json).
 * `--profile` instead runs InquiryVirtualAccount over gRPC with the service under `node --cpu-prof`
 * and prints where the time goes. See README "Benchmarks" and `--help`.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import { cpus, loadavg } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import pg from "pg";
import { InquiryVirtualAccountRequestSchema, InquiryVirtualAccountResponseSchema } from "../src/gen/va/v1/va_pb.js";
import { createRequest, sandboxCallback, sandboxPaymentId } from "../test/support/fixtures.js";
import { Child } from "./children.js";
import { decodeEcho, ECHO_PATH, encodeEcho } from "./echo.js";
import {
  type H2loadResult,
  h2loadVersion,
  protocolHeaders,
  runH2load,
  verifyUnary,
  type WireProtocol,
  writeBody,
} from "./h2load.js";
import { closedLoop, grpcClients, postJson } from "./node-load.js";
import { formatProfileSummary, type ProfileSummary, summarizeProfile } from "./profile-summary.js";
import type { SeededVa, ServerReply, ServerRequest, SubscriberReply, SubscriberRequest } from "./protocol.js";
import { type LatencySummary, round, summarize } from "./stats.js";
import { BENCH_NICE, CpuWindow, raisePriority } from "./system.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BENCH = join(ROOT, "bench");

// ---------------------------------------------------------------------------------------------
// Options

const HELP = `npm run bench -- [options]

  --quick                 short run (~1.5 min): 3 s per measurement, 1 s warm-up, 1k subscribers only
  --duration=S            seconds measured per scenario (default 10)
  --warmup=S              warm-up seconds before each measurement (default 2)
  --only=LIST             comma-separated scenario ids or groups:
                          anchors, inquiry, create, callbacks, streams, scaleout
                          (ids: anchor-grpc-js, anchor-connect, inquiry-grpc, inquiry-connect,
                          create-sqlite, create-postgres, create-postgres-2x, callbacks-sqlite,
                          callbacks-postgres, streams-<N>)
  --subscribers=LIST      stream subscriber counts (default 1000,10000)
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

const { values: flags } = parseArgs({
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
  process.exit(0);
}

const quick = flags.quick === true;
const DURATION_S = Number(flags.duration ?? (quick ? 3 : 10));
const WARMUP_S = Number(flags.warmup ?? (quick ? 1 : 2));
const SUBSCRIBER_COUNTS = (flags.subscribers ?? (quick ? "1000" : "1000,10000")).split(",").map(Number);
const PAYMENT_RATE = Number(flags.rate ?? 200);
const STREAM_SECONDS = quick ? 4 : DURATION_S;
const OUT = resolve(flags.out ?? join(ROOT, "artifacts", "bench.json"));
const ARTIFACTS = dirname(OUT);
const WORK = join(ARTIFACTS, "bench-work");
const PROFILE_SCENARIO = flags["profile-scenario"] ?? (flags.profile ? "inquiry-grpc" : undefined);
const POSTGRES_ADMIN_URL =
  process.env.VA_BENCH_POSTGRES_URL ?? process.env.VA_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** h2load load shape for every h2load row. */
const H2 = { connections: 8, streams: 4 };
/** Node load generator shape for create: 32 calls in flight over 4 HTTP/2 connections. */
const CREATE = { concurrency: 32, connections: 4 };
/** Callback ingestion: 32 POSTs in flight over up to 32 keep-alive HTTP/1.1 connections. */
const CALLBACKS = { concurrency: 32, vas: 1000 };
const STREAMS_PER_CONNECTION = 100;
/** How long opening the streams may take, and how long after the last send callbacks may drain. */
const SUBSCRIBE_DEADLINE_MS = quick ? 45_000 : 90_000;
const DRAIN_MS = quick ? 8_000 : 15_000;
const SUBSCRIBE_BATCH = 1000;

const API_KEY = "bench-key-0123456789";
const TENANT = "bench";
const SANDBOX = {
  merchantId: "M-BENCH",
  apiKey: `bench-provider-${randomBytes(8).toString("hex")}`,
  webhookSecret: randomBytes(32).toString("base64url"),
};

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

// ---------------------------------------------------------------------------------------------
// Results

interface Result {
  id: string;
  group: "anchors" | "inquiry" | "create" | "callbacks" | "streams" | "scaleout";
  what: string;
  load: string;
  skipped?: string;
  rps?: number;
  latency?: LatencySummary;
  errors?: number;
  /** Server process CPU per completed request (µs), all of its threads; includes the in-process simulator. */
  serverCpuUsPerRequest?: number;
  /** Server CPU cores busy during the window (1.0 = one core). */
  serverCores?: number;
  /** Busy cores of the whole machine in the window (of cpus().length): server + load + database + others. */
  machineCores?: number;
  /** PostgreSQL (all backends) CPU per request (µs). */
  dbCpuUsPerRequest?: number;
  vsGrpcJsEcho?: number;
  vsConnectEcho?: number;
  /** The same, per server CPU second: less sensitive to other load on the machine. */
  cpuEfficiencyVsGrpcJsEcho?: number;
  streams?: {
    subscribers: number;
    /** Subscriptions the server held when payments started. */
    live: number;
    connections: number;
    paymentsPerSecond: number;
    sent: number;
    /** Callbacks answered 200 (recorded). */
    acknowledged: number;
    delivered: number;
    callbackErrors: number;
    subscribeSeconds: number;
    elapsedSeconds: number;
    serverRssMiB: number;
    serverPeakRssMiB: number;
    serverRssBeforeSubscribersMiB: number;
    serverRssAfterSubscribeMiB: number;
    /** V8 heap in use right after the streams opened (RSS also holds garbage not yet collected). */
    serverHeapUsedAfterSubscribeMiB: number;
    /** Server event-loop delay during the payments (ms): stalls every delivery waits behind. */
    serverLoopDelayP99Ms: number | undefined;
    serverLoopDelayMaxMs: number | undefined;
    /** Longest single and summed garbage-collection pause in the server during the payments (ms). */
    serverGcPauseMaxMs: number | undefined;
    serverGcPauseTotalMs: number | undefined;
  };
  command?: string;
  note?: string;
}

const results: Result[] = [];

function selected(id: string, group: Result["group"]): boolean {
  if (!flags.only) return true;
  const wanted = flags.only.split(",").map((s) => s.trim());
  return wanted.includes(id) || wanted.includes(group);
}

// ---------------------------------------------------------------------------------------------
// Processes

type ServerChild = Child<ServerRequest, ServerReply> & { url: string };

async function startServer(
  name: string,
  mode: "grpc-echo" | "connect-echo" | "gateway",
  env: NodeJS.ProcessEnv = {},
  execArgv: string[] = [],
): Promise<ServerChild> {
  const child = Child.spawn<ServerRequest, ServerReply>({
    name,
    entry: join(BENCH, "server.ts"),
    args: [mode],
    execArgv,
    env: {
      VA_API_KEYS: `${TENANT}=${API_KEY}`,
      VA_SANDBOX: "true",
      SANDBOX_MERCHANT_ID: SANDBOX.merchantId,
      SANDBOX_API_KEY: SANDBOX.apiKey,
      SANDBOX_WEBHOOK_SECRET: SANDBOX.webhookSecret,
      VA_SHUTDOWN_GRACE_MS: "1000",
      LOG_LEVEL: "info",
      ...env,
    },
    logPath: join(WORK, `${name}.log`),
  });
  let ready: ServerReply;
  try {
    ready = await child.ready;
  } catch (error) {
    throw new Error(`${name} did not start (see ${relative(ROOT, join(WORK, `${name}.log`))}): ${(error as Error).message}`);
  }
  return Object.assign(child, { url: ready.url ?? "" });
}

async function stopServer(server: ServerChild): Promise<void> {
  await server.request({ cmd: "stop" }, 15_000).catch(() => undefined);
  await server.exit();
}

const sqliteEnv = (name: string) => ({ SQLITE_PATH: join(WORK, `${name}-${randomBytes(3).toString("hex")}.sqlite`) });

let postgresReason: string | undefined | null = null;
async function postgresUnavailable(): Promise<string | undefined> {
  if (postgresReason !== null) return postgresReason;
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("select 1");
    postgresReason = undefined;
  } catch (error) {
    postgresReason = `PostgreSQL not reachable at ${POSTGRES_ADMIN_URL}: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
  return postgresReason;
}

const createdDatabases: string[] = [];
async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
async function createDatabase(): Promise<string> {
  const name = `va_bench_${randomBytes(5).toString("hex")}`;
  await adminQuery(`create database ${name}`);
  createdDatabases.push(name);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
async function dropDatabases(): Promise<void> {
  for (const name of createdDatabases.splice(0)) {
    await adminQuery(`drop database if exists ${name} with (force)`).catch((e: unknown) => log(`drop ${name}: ${e}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario building blocks

/** The last measured window, in CLOCK_MONOTONIC µs (for cutting a CPU profile to it). */
let lastWindow: { fromUs: number; toUs: number } | undefined;

function cpuFigures(window: CpuWindow, completed: number) {
  const { serverCpuMs, dbCpuMs, machineBusyMs, wallMs } = window.result();
  lastWindow = { fromUs: window.monotonicStartUs, toUs: window.monotonicEndUs };
  return {
    serverCpuUsPerRequest: completed > 0 ? round((serverCpuMs * 1000) / completed, 0) : undefined,
    serverCores: wallMs > 0 ? round(serverCpuMs / wallMs, 2) : undefined,
    machineCores: wallMs > 0 ? round(machineBusyMs / wallMs, 2) : undefined,
    dbCpuUsPerRequest: dbCpuMs !== undefined && completed > 0 ? round((dbCpuMs * 1000) / completed, 0) : undefined,
  };
}

/** h2load against one server, measuring the server's CPU over the measured window. */
async function h2loadRow(options: {
  server: ServerChild;
  path: string;
  protocol: WireProtocol;
  message: Uint8Array;
  name: string;
  auth: boolean;
  check: (response: Uint8Array) => void;
}): Promise<Pick<Result, "rps" | "latency" | "errors" | "command" | "serverCpuUsPerRequest" | "serverCores" | "machineCores">> {
  const bodyFile = join(WORK, `${options.name}.body`);
  writeBody(bodyFile, options.protocol, options.message);
  const headers = protocolHeaders(options.protocol, options.auth ? { authorization: `Bearer ${API_KEY}` } : {});
  options.check(
    await verifyUnary({ url: options.server.url, path: options.path, protocol: options.protocol, headers, bodyFile }),
  );
  const window = new CpuWindow([options.server.pid], false);
  const startTimer = setTimeout(() => window.mark("start"), WARMUP_S * 1000);
  let result: H2loadResult;
  try {
    result = await runH2load({
      url: options.server.url,
      path: options.path,
      headers,
      bodyFile,
      connections: H2.connections,
      streams: H2.streams,
      durationS: DURATION_S,
      warmupS: WARMUP_S,
      logFile: join(WORK, `${options.name}.h2load.log`),
    });
  } finally {
    clearTimeout(startTimer);
  }
  window.mark("end");
  const completed = result.succeeded;
  return {
    rps: round(result.rps, 1),
    latency: result.latency,
    errors: result.failed + result.errored + (result.requests - result.succeeded - result.failed - result.errored),
    command: result.command,
    ...cpuFigures(window, Math.round(result.rps * DURATION_S)),
    ...(completed === 0 ? { note: "no request succeeded" } : {}),
  };
}

async function echoAnchor(id: string, mode: "grpc-echo" | "connect-echo", what: string, execArgv: string[] = []) {
  const server = await startServer(id, mode, {}, execArgv);
  try {
    const message = encodeEcho(`va_${randomBytes(16).toString("hex")}`);
    const row = await h2loadRow({
      server,
      path: ECHO_PATH,
      protocol: "grpc",
      message,
      name: id,
      auth: false,
      check: (response) => {
        if (decodeEcho(response).message.length !== 35) throw new Error(`${id}: echo answered wrong`);
      },
    });
    results.push({ id, group: "anchors", what, load: `h2load ${H2.connections}×${H2.streams}, gRPC`, ...row });
  } finally {
    await stopServer(server);
  }
}

async function inquiryRows(server: ServerChild, protocols: WireProtocol[]) {
  const [client] = grpcClients([server.url], 1, API_KEY);
  if (!client) throw new Error("no client");
  const { virtualAccount } = await client.createVirtualAccount(createRequest());
  const id = virtualAccount?.id ?? "";
  const message = toBinary(
    InquiryVirtualAccountRequestSchema,
    create(InquiryVirtualAccountRequestSchema, { virtualAccountId: id }),
  );
  for (const protocol of protocols) {
    const scenario = `inquiry-${protocol}`;
    log(`${scenario}: h2load ${DURATION_S}s`);
    const row = await h2loadRow({
      server,
      path: "/va.v1.VaService/InquiryVirtualAccount",
      protocol,
      message,
      name: scenario,
      auth: true,
      check: (response) => {
        const decoded = fromBinary(InquiryVirtualAccountResponseSchema, response);
        if (decoded.virtualAccount?.id !== id) throw new Error(`${scenario}: inquiry answered another VA`);
      },
    });
    results.push({
      id: scenario,
      group: "inquiry",
      what: `InquiryVirtualAccount, ${protocol === "grpc" ? "gRPC" : "Connect application/proto"}, SQLite`,
      load: `h2load ${H2.connections}×${H2.streams}`,
      ...row,
    });
  }
}

/** CreateVirtualAccount, closed loop: 32 in flight over 4 HTTP/2 connections (spread over `servers`). */
async function createRow(id: string, group: Result["group"], what: string, servers: ServerChild[], database: boolean) {
  const clients = grpcClients(
    servers.map((s) => s.url),
    CREATE.connections,
    API_KEY,
  );
  // One call per connection first: opens the sessions and checks the path works.
  for (const client of clients) await client.createVirtualAccount(createRequest());
  const window = new CpuWindow(
    servers.map((s) => s.pid),
    database,
  );
  log(`${id}: ${CREATE.concurrency} concurrent creates, ${DURATION_S}s`);
  const result = await closedLoop({
    concurrency: CREATE.concurrency,
    durationS: DURATION_S,
    warmupS: WARMUP_S,
    onMeasure: (phase) => window.mark(phase),
    call: async (worker) => {
      const client = clients[worker % clients.length];
      if (!client) throw new Error("no client");
      const response = await client.createVirtualAccount(createRequest());
      if (!response.virtualAccount?.vaNumber) throw new Error("create answered no VA number");
    },
  });
  results.push({
    id,
    group,
    what,
    load: `Node gRPC client: ${CREATE.concurrency} in flight, ${CREATE.connections} HTTP/2 conns${servers.length > 1 ? ` over ${servers.length} replicas` : ""}`,
    rps: round(result.rps, 1),
    latency: result.latency,
    errors: result.errors,
    ...cpuFigures(window, result.completed),
    ...(result.firstError ? { note: `first error: ${result.firstError}` } : {}),
  });
}

async function seed(server: ServerChild, count: number): Promise<{ vas: SeededVa[]; cursor: string }> {
  const reply = await server.request({ cmd: "seed", count, tenantId: TENANT, merchantId: SANDBOX.merchantId }, 300_000);
  return { vas: reply.vas ?? [], cursor: reply.cursor ?? "0" };
}

function signedCallback(va: SeededVa, amount: bigint) {
  return sandboxCallback(SANDBOX, new Date(), { ...va, bankCode: "BNI" }, { id: sandboxPaymentId(), amount });
}

/** Signed sandbox payment callbacks, unique payment ids, 32 in flight, round-robin over 1000 VAs. */
async function callbacksRow(id: string, what: string, server: ServerChild, database: boolean) {
  const { vas } = await seed(server, CALLBACKS.vas);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CALLBACKS.concurrency });
  const url = `${server.url}/webhooks/sandbox`;
  const first = vas[0];
  if (!first) throw new Error("seeding failed");
  const status = await postJson(agent, url, signedCallback(first, 10_000n));
  if (status !== 200) throw new Error(`${id}: webhook answered HTTP ${status}`);
  const window = new CpuWindow([server.pid], database);
  log(`${id}: ${CALLBACKS.concurrency} concurrent callbacks, ${DURATION_S}s`);
  const result = await closedLoop({
    concurrency: CALLBACKS.concurrency,
    durationS: DURATION_S,
    warmupS: WARMUP_S,
    onMeasure: (phase) => window.mark(phase),
    call: async (_worker, sequence) => {
      const va = vas[sequence % vas.length];
      if (!va) throw new Error("no VA");
      const answer = await postJson(agent, url, signedCallback(va, 10_000n));
      if (answer !== 200) throw new Error(`webhook answered HTTP ${answer}`);
    },
  });
  agent.destroy();
  results.push({
    id,
    group: "callbacks",
    what,
    load: `${CALLBACKS.concurrency} POSTs in flight, HTTP/1.1 keep-alive, ${CALLBACKS.vas} VAs`,
    rps: round(result.rps, 1),
    latency: result.latency,
    errors: result.errors,
    ...cpuFigures(window, result.completed),
    ...(result.firstError ? { note: `first error: ${result.firstError}` } : {}),
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;
const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

/**
 * N subscribers (one VA each, 100 streams per HTTP/2 connection, in a child process), then
 * PAYMENT_RATE signed callbacks per second round-robin over their VAs. Each payment's amount is its
 * send time in µs after `baseMicros`, so the subscriber computes delivery latency on arrival.
 * Every wait is bounded: an overloaded server yields a partial result, not a hung bench.
 */
async function streamsRow(subscribers: number, execArgv: string[] = []) {
  const id = streamsId(subscribers);
  const server = await startServer(id, "gateway", sqliteEnv(id), execArgv);
  const client = Child.spawn<SubscriberRequest, SubscriberReply>({
    name: `${id}-subscribers`,
    entry: join(BENCH, "subscribers.ts"),
    logPath: join(WORK, `${id}-subscribers.log`),
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    await client.ready;
    const { vas, cursor } = await seed(server, subscribers);
    const rssBefore = server.memory().rssBytes;
    const baseMicros = Math.floor(nowMicros());
    const connections = Math.ceil(subscribers / STREAMS_PER_CONNECTION);
    log(`${id}: opening ${subscribers} streams over ${connections} HTTP/2 connections`);
    const subscribeStart = performance.now();
    // Ramp: SUBSCRIBE_BATCH streams (whole connections) at a time, each batch once the previous is
    // live, so the measurement starts from a steady state rather than from a connection storm.
    let live = 0;
    for (let opened = 0; opened < subscribers; ) {
      const batch = vas.slice(opened, opened + SUBSCRIBE_BATCH);
      opened += batch.length;
      await client.request({
        cmd: "open",
        url: server.url,
        apiKey: API_KEY,
        virtualAccountIds: batch.map((v) => v.id),
        streamsPerConnection: STREAMS_PER_CONNECTION,
        afterCursor: cursor,
        baseMicros,
      });
      for (;;) {
        live = (await server.request({ cmd: "stats" })).subscribers ?? 0;
        if (live >= opened || performance.now() - subscribeStart > SUBSCRIBE_DEADLINE_MS) break;
        await sleep(100);
      }
      if (performance.now() - subscribeStart > SUBSCRIBE_DEADLINE_MS) break;
    }
    const heapAfterSubscribe = (await server.request({ cmd: "stats" })).heapUsed ?? 0;
    const rssAfterSubscribe = server.memory().rssBytes;
    const subscribeSeconds = round((performance.now() - subscribeStart) / 1000, 1);
    if (live < subscribers) log(`${id}: only ${live}/${subscribers} streams live after ${subscribeSeconds}s; measuring anyway`);
    await client.request({ cmd: "reset" });
    await server.request({ cmd: "stats" });
    const window = new CpuWindow([server.pid], false);
    const url = `${server.url}/webhooks/sandbox`;
    const total = Math.round(PAYMENT_RATE * STREAM_SECONDS);
    const intervalMs = 1000 / PAYMENT_RATE;
    let acknowledged = 0;
    let callbackErrors = 0;
    const posts: Promise<void>[] = [];
    log(`${id}: ${PAYMENT_RATE} payments/s for ${STREAM_SECONDS}s`);
    window.mark("start");
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const due = start + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const va = vas[(i * 7919) % vas.length];
      if (!va) continue;
      const amount = BigInt(Math.max(1, Math.round(nowMicros() - baseMicros)));
      posts.push(
        postJson(agent, url, signedCallback(va, amount)).then(
          (status) => {
            if (status === 200) acknowledged++;
            else callbackErrors++;
          },
          () => {
            callbackErrors++;
          },
        ),
      );
    }
    const sendSeconds = (performance.now() - start) / 1000;
    // Callbacks the server could not take in time are abandoned after the drain allowance.
    await Promise.race([Promise.all(posts), sleep(DRAIN_MS)]);
    window.mark("end");
    const loop = await server.request({ cmd: "stats" });
    const memory = server.memory();
    let delivered: number[] = [];
    const deadline = performance.now() + 5_000;
    while (performance.now() < deadline) {
      delivered = (await client.request({ cmd: "report" })).latenciesMs ?? [];
      if (delivered.length >= acknowledged && acknowledged + callbackErrors >= total) break;
      await sleep(200);
    }
    const elapsedSeconds = (performance.now() - start) / 1000;
    const latency = summarize(delivered);
    const cpu = cpuFigures(window, acknowledged);
    results.push({
      id,
      group: "streams",
      what: `${subscribers} live subscribers, ${PAYMENT_RATE} payments/s offered (SQLite)`,
      load: `gRPC streams, ${STREAMS_PER_CONNECTION}/HTTP/2 conn; callbacks HTTP/1.1`,
      rps: round(acknowledged / Math.max(sendSeconds, window.result().wallMs / 1000), 1),
      latency,
      errors: callbackErrors + (total - acknowledged - callbackErrors) + Math.max(0, acknowledged - delivered.length),
      serverCpuUsPerRequest: cpu.serverCpuUsPerRequest,
      serverCores: cpu.serverCores,
      machineCores: cpu.machineCores,
      streams: {
        subscribers,
        live,
        connections,
        paymentsPerSecond: PAYMENT_RATE,
        sent: total,
        acknowledged,
        delivered: delivered.length,
        callbackErrors,
        subscribeSeconds,
        elapsedSeconds: round(elapsedSeconds, 1),
        serverRssMiB: mib(memory.rssBytes),
        serverPeakRssMiB: mib(memory.peakRssBytes),
        serverRssBeforeSubscribersMiB: mib(rssBefore),
        serverRssAfterSubscribeMiB: mib(rssAfterSubscribe),
        serverHeapUsedAfterSubscribeMiB: mib(heapAfterSubscribe),
        serverLoopDelayP99Ms: loop.loopDelayP99Ms === undefined ? undefined : round(loop.loopDelayP99Ms, 1),
        serverLoopDelayMaxMs: loop.loopDelayMaxMs === undefined ? undefined : round(loop.loopDelayMaxMs, 1),
        serverGcPauseMaxMs: loop.gcPauseMaxMs === undefined ? undefined : round(loop.gcPauseMaxMs, 1),
        serverGcPauseTotalMs: loop.gcPauseTotalMs === undefined ? undefined : round(loop.gcPauseTotalMs, 1),
      },
      ...(acknowledged < total
        ? {
            note: `${id}: only ${acknowledged}/${total} callbacks acknowledged within ${round(sendSeconds + DRAIN_MS / 1000, 0)}s: the server ingests fewer than ${PAYMENT_RATE}/s, so latency includes queueing`,
          }
        : {}),
    });
  } finally {
    agent.destroy();
    await client.request({ cmd: "close" }).catch(() => undefined);
    await client.exit(3_000);
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Groups

async function runAnchors(execArgv: string[] = [], only?: string) {
  if ((only === undefined || only === "anchor-grpc-js") && selected("anchor-grpc-js", "anchors")) {
    log("anchor-grpc-js: bare @grpc/grpc-js echo");
    await echoAnchor("anchor-grpc-js", "grpc-echo", "bare @grpc/grpc-js unary echo", execArgv);
  }
  if ((only === undefined || only === "anchor-connect") && selected("anchor-connect", "anchors")) {
    log("anchor-connect: bare @connectrpc/connect-node echo");
    await echoAnchor(
      "anchor-connect",
      "connect-echo",
      "bare connect-node (http2.createServer + connectNodeAdapter) unary echo",
      execArgv,
    );
  }
}

async function runSqliteService() {
  const protocols = (["grpc", "connect"] as const).filter((p) => selected(`inquiry-${p}`, "inquiry"));
  const wantCallbacks = selected("callbacks-sqlite", "callbacks");
  if (protocols.length > 0 || wantCallbacks) {
    const server = await startServer("gateway-sqlite", "gateway", sqliteEnv("gateway-sqlite"));
    try {
      if (protocols.length > 0) await inquiryRows(server, [...protocols]);
      if (wantCallbacks) await callbacksRow("callbacks-sqlite", "signed sandbox callbacks ingested, SQLite", server, false);
    } finally {
      await stopServer(server);
    }
  }
  if (selected("create-sqlite", "create")) {
    // A fresh process: creates grow the simulator's and the database's state.
    const server = await startServer("gateway-sqlite-create", "gateway", sqliteEnv("gateway-sqlite-create"));
    try {
      await createRow(
        "create-sqlite",
        "create",
        "CreateVirtualAccount, sandbox provider (HTTP to in-process simulator), SQLite",
        [server],
        false,
      );
    } finally {
      await stopServer(server);
    }
  }
}

async function runPostgresService() {
  const wanted = {
    callbacks: selected("callbacks-postgres", "callbacks"),
    create: selected("create-postgres", "create") || selected("create-postgres", "scaleout"),
    scaleout: selected("create-postgres-2x", "scaleout"),
  };
  if (!wanted.callbacks && !wanted.create && !wanted.scaleout) return;
  const reason = await postgresUnavailable();
  if (reason) {
    for (const [id, group] of [
      ["callbacks-postgres", "callbacks"],
      ["create-postgres", "create"],
      ["create-postgres-2x", "scaleout"],
    ] as const) {
      if (selected(id, group)) results.push({ id, group, what: id, load: "-", skipped: reason });
    }
    return;
  }
  const databaseUrl = await createDatabase();
  if (wanted.callbacks) {
    const server = await startServer("gateway-pg-callbacks", "gateway", { DATABASE_URL: databaseUrl });
    try {
      await callbacksRow("callbacks-postgres", "signed sandbox callbacks ingested, PostgreSQL", server, true);
    } finally {
      await stopServer(server);
    }
  }
  if (wanted.create || wanted.scaleout) {
    const one = await startServer("gateway-pg-1", "gateway", { DATABASE_URL: databaseUrl });
    try {
      await createRow("create-postgres", "create", "CreateVirtualAccount, sandbox provider, PostgreSQL, 1 replica", [one], true);
    } finally {
      await stopServer(one);
    }
  }
  if (wanted.scaleout) {
    // Started one after the other: each applies migrations on start.
    const a = await startServer("gateway-pg-2a", "gateway", { DATABASE_URL: databaseUrl });
    const b = await startServer("gateway-pg-2b", "gateway", { DATABASE_URL: databaseUrl }).catch(async (e: unknown) => {
      await stopServer(a);
      throw e;
    });
    try {
      await createRow(
        "create-postgres-2x",
        "scaleout",
        "CreateVirtualAccount, PostgreSQL, 2 replicas (same database)",
        [a, b],
        true,
      );
    } finally {
      await Promise.all([stopServer(a), stopServer(b)]);
    }
  }
}

const streamsId = (subscribers: number) =>
  `streams-${subscribers >= 1000 && subscribers % 1000 === 0 ? `${subscribers / 1000}k` : subscribers}`;

async function runStreams() {
  for (const count of SUBSCRIBER_COUNTS) {
    if (!selected(streamsId(count), "streams")) continue;
    await streamsRow(count);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function ratios(): void {
  const grpcJs = results.find((r) => r.id === "anchor-grpc-js");
  const connect = results.find((r) => r.id === "anchor-connect");
  for (const r of results) {
    if (r.rps === undefined || r.group === "streams" || r.skipped) continue;
    if (grpcJs?.rps) r.vsGrpcJsEcho = round(r.rps / grpcJs.rps, 3);
    if (connect?.rps) r.vsConnectEcho = round(r.rps / connect.rps, 3);
    if (grpcJs?.serverCpuUsPerRequest && r.serverCpuUsPerRequest) {
      r.cpuEfficiencyVsGrpcJsEcho = round(grpcJs.serverCpuUsPerRequest / r.serverCpuUsPerRequest, 3);
    }
  }
}

interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean | undefined;
}

function targets(): TargetCheck[] {
  const by = (id: string) => results.find((r) => r.id === id && !r.skipped);
  const checks: TargetCheck[] = [];
  const ratioCheck = (label: string, id: string, min: number) => {
    const r = by(id);
    const v = r?.vsGrpcJsEcho;
    checks.push({
      target: `${label} ≥ ${min}× grpc-js echo`,
      measured: v === undefined ? "not measured" : `${v}× (CPU-normalised ${r?.cpuEfficiencyVsGrpcJsEcho ?? "?"}×)`,
      pass: v === undefined ? undefined : v >= min,
    });
  };
  ratioCheck("Inquiry over gRPC", "inquiry-grpc", 0.5);
  const connect = by("anchor-connect");
  checks.push({
    target: "bare connect-node echo (reference: starts at ~0.15–0.3× grpc-js)",
    measured: connect?.vsGrpcJsEcho === undefined ? "not measured" : `${connect.vsGrpcJsEcho}×`,
    pass: undefined,
  });
  ratioCheck("Create on SQLite", "create-sqlite", 0.3);
  const streams = results.filter((r) => r.group === "streams" && r.streams);
  const tenK = streams.find((r) => r.streams?.subscribers === 10_000);
  checks.push({
    target: "10k subscribers @200 payments/s: delivery p99 < 50 ms",
    measured: tenK?.latency
      ? `p99 ${tenK.latency.p99} ms (${tenK.streams?.delivered}/${tenK.streams?.sent} delivered, ${tenK.streams?.live} live)`
      : "not measured",
    pass: tenK?.latency
      ? tenK.latency.p99 < 50 && tenK.streams?.delivered === tenK.streams?.sent && tenK.streams?.live === 10_000
      : undefined,
  });
  checks.push({
    target: "10k subscribers: server RSS < 1 GiB",
    measured: tenK?.streams ? `${tenK.streams.serverPeakRssMiB} MiB peak with ${tenK.streams.live} live` : "not measured",
    pass: tenK?.streams ? tenK.streams.serverPeakRssMiB < 1024 && tenK.streams.live === 10_000 : undefined,
  });
  const one = by("create-postgres");
  const two = by("create-postgres-2x");
  const scale = one?.rps && two?.rps ? round(two.rps / one.rps, 2) : undefined;
  checks.push({
    target: "create: 2 replicas on PostgreSQL ≥ 1.6× one",
    measured: scale === undefined ? "not measured" : `${scale}×`,
    pass: scale === undefined ? undefined : scale >= 1.6,
  });
  return checks;
}

function table(): string {
  const header = [
    "scenario",
    "req/s",
    "p50 ms",
    "p99 ms",
    "err",
    "srv CPU µs/req",
    "srv cores",
    "box cores",
    "db µs/req",
    "× grpc-js",
    "× connect",
    "× grpc-js /CPU",
  ];
  const rows = results.map((r) => {
    if (r.skipped) return [r.id, `skipped: ${r.skipped}`];
    const f = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "-" : String(v));
    return [
      r.id,
      f(r.rps),
      f(r.latency?.p50),
      f(r.latency?.p99),
      f(r.errors),
      f(r.serverCpuUsPerRequest),
      f(r.serverCores),
      f(r.machineCores),
      f(r.dbCpuUsPerRequest),
      f(r.vsGrpcJsEcho),
      f(r.vsConnectEcho),
      f(r.cpuEfficiencyVsGrpcJsEcho),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((r) => r.length > 2).map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.length === 2
      ? `${cells[0]?.padEnd(widths[0] ?? 0)}  ${cells[1]}`
      : cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  const out = [line(header), line(header.map((_, i) => "-".repeat(widths[i] ?? 0))), ...rows.map(line)];
  const streams = results.filter((r) => r.streams);
  if (streams.length > 0) {
    out.push("", "streams (req/s = payments/s sent; latency = callback POST sent → event received by the subscriber):");
    for (const r of streams) {
      const s = r.streams;
      if (!s) continue;
      out.push(
        `  ${r.id}: ${s.live}/${s.subscribers} subscribers live over ${s.connections} HTTP/2 conns (opened in ${s.subscribeSeconds}s); ` +
          `${s.sent} callbacks sent at ${s.paymentsPerSecond}/s, ${s.acknowledged} acknowledged (${r.rps}/s), ${s.delivered} delivered; ` +
          `p50 ${r.latency?.p50} ms, p99 ${r.latency?.p99} ms, max ${r.latency?.max} ms; ` +
          `server RSS ${s.serverRssMiB} MiB (peak ${s.serverPeakRssMiB}, ${s.serverRssBeforeSubscribersMiB} before subscribers, ` +
          `${s.serverRssAfterSubscribeMiB} once subscribed, heap used then ${s.serverHeapUsedAfterSubscribeMiB}), ` +
          `server ${r.serverCores} cores, event-loop delay p99 ${s.serverLoopDelayP99Ms} ms (max ${s.serverLoopDelayMaxMs}), ` +
          `GC pauses max ${s.serverGcPauseMaxMs} ms (total ${s.serverGcPauseTotalMs})`,
      );
    }
  }
  const notes = results.filter((r) => r.note);
  if (notes.length > 0) out.push("", ...notes.map((r) => `note ${r.id}: ${r.note}`));
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Main

async function profileRun(scenario: string): Promise<ProfileSummary> {
  // One directory per run: Node writes one profile per thread (tsx's loader-hooks thread too),
  // named CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; the main thread is thread id 0.
  const dir = join(ARTIFACTS, "profiles", `${scenario}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(dir, { recursive: true });
  const execArgv = ["--cpu-prof", `--cpu-prof-dir=${dir}`];
  log(`profiling ${scenario} (node --cpu-prof; figures under the profiler are not comparable to the plain run)`);
  if (scenario.startsWith("anchor-")) {
    await runAnchors(execArgv, scenario);
  } else if (scenario.startsWith("streams-")) {
    const count = SUBSCRIBER_COUNTS.find((n) => streamsId(n) === scenario);
    if (count === undefined) throw new Error(`${scenario}: pass --subscribers with its count`);
    await streamsRow(count, execArgv);
  } else {
    const server = await startServer(`profile-${scenario}`, "gateway", sqliteEnv("profile"), execArgv);
    try {
      if (scenario === "inquiry-grpc" || scenario === "inquiry-connect") {
        await inquiryRows(server, [scenario === "inquiry-grpc" ? "grpc" : "connect"]);
      } else if (scenario === "create-sqlite") {
        await createRow("create-sqlite", "create", "CreateVirtualAccount, SQLite (under --cpu-prof)", [server], false);
      } else if (scenario === "callbacks-sqlite") {
        await callbacksRow("callbacks-sqlite", "callbacks, SQLite (under --cpu-prof)", server, false);
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
  return summarizeProfile(join(dir, main), 30, lastWindow);
}

async function main(): Promise<void> {
  const h2load = h2loadVersion();
  if (!h2load) {
    console.error(
      "bench: h2load not found. It is the HTTP/2 load generator of nghttp2; install it with\n\n" +
        "    apt-get install nghttp2-client\n\n(Debian/Ubuntu; other systems: the nghttp2 package), then run `npm run bench` again.",
    );
    process.exit(2);
  }
  const prioritised = raisePriority(process.pid);
  if (!prioritised) log(`cannot raise priority to nice ${BENCH_NICE} (not root?): figures will be noisier on a busy machine`);
  mkdirSync(ARTIFACTS, { recursive: true });
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const startedAt = new Date();
  const t0 = performance.now();
  let profile: ProfileSummary | undefined;
  const cleanup = async () => {
    await dropDatabases();
  };
  process.once("SIGINT", () => {
    cleanup().finally(() => process.exit(130));
  });
  try {
    if (PROFILE_SCENARIO) {
      profile = await profileRun(PROFILE_SCENARIO);
    } else {
      await runAnchors();
      await runSqliteService();
      await runPostgresService();
      await runStreams();
    }
  } finally {
    await cleanup();
  }
  ratios();
  const checks = PROFILE_SCENARIO ? [] : targets();
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
      quick,
      durationS: DURATION_S,
      warmupS: WARMUP_S,
      h2load: H2,
      create: CREATE,
      callbacks: CALLBACKS,
      subscribers: SUBSCRIBER_COUNTS,
      streamsPerConnection: STREAMS_PER_CONNECTION,
      paymentsPerSecond: PAYMENT_RATE,
      streamSeconds: STREAM_SECONDS,
      profile: PROFILE_SCENARIO,
    },
    results,
    targets: checks,
    ...(profile ? { profile } : {}),
  };
  const out = PROFILE_SCENARIO && !flags.out ? join(ARTIFACTS, "bench-profile.json") : OUT;
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nva-gateway bench — ${startedAt.toISOString()}, ${cpus().length} CPUs, Node ${process.version}, ${h2load}`);
  console.log(`${DURATION_S}s measured after ${WARMUP_S}s warm-up per row; everything on loopback, sharing the same cores\n`);
  console.log(table());
  if (checks.length > 0) {
    console.log('\ntargets (issue "Performance: npm run bench"):');
    for (const c of checks) {
      const mark = c.pass === undefined ? "  ·  " : c.pass ? "PASS " : "FAIL ";
      console.log(`  ${mark} ${c.target}: ${c.measured}`);
    }
  }
  if (profile) console.log(`\n${formatProfileSummary(profile)}`);
  console.log(`\nJSON: ${relative(process.cwd(), out) || out}   (logs: ${relative(process.cwd(), WORK)})`);
}

main().catch(async (error: unknown) => {
  console.error(`bench failed: ${(error as Error)?.stack ?? error}`);
  await dropDatabases().catch(() => undefined);
  process.exit(1);
});
