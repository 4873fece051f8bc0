import * as http from "node:http";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Child } from "../children.js";
import type { Bench } from "../context.js";
import { log } from "../context.js";
import { signedCallback } from "../fixtures.js";
import { cpuFigures } from "../measure.js";
import { postJson } from "../node-load.js";
import { API_KEY, BENCH, CALLBACKS, SANDBOX, STREAMS_PER_CONNECTION, SUBSCRIBE_BATCH } from "../options.js";
import type { SubscriberReply, SubscriberRequest } from "../protocol.js";
import { seed, sqliteEnv, startServer, stopServer } from "../servers.js";
import { round, summarize } from "../stats.js";
import { CpuWindow } from "../system.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;
const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

export const streamsId = (subscribers: number) =>
  `streams-${subscribers >= 1000 && subscribers % 1000 === 0 ? `${subscribers / 1000}k` : subscribers}`;

/**
 * N subscribers (one VA each, 100 streams per HTTP/2 connection, in a child process), then
 * `--rate` signed callbacks per second round-robin over their VAs. Each payment's amount is its
 * send time in µs after `baseMicros`, so the subscriber computes delivery latency on arrival.
 * Every wait is bounded: an overloaded server yields a partial result, not a hung bench.
 */
export async function streamsRow(bench: Bench, subscribers: number, execArgv: string[] = []) {
  const {
    paymentRate: PAYMENT_RATE,
    streamSeconds: STREAM_SECONDS,
    subscribeDeadlineMs,
    drainMs: DRAIN_MS,
    work,
  } = bench.options;
  const id = streamsId(subscribers);
  // Beyond 10k streams, opening them takes proportionally longer.
  const SUBSCRIBE_DEADLINE_MS = Math.max(subscribeDeadlineMs, subscribers * 3);
  const server = await startServer(bench.options, id, "gateway", sqliteEnv(bench.options, id), execArgv);
  const client = Child.spawn<SubscriberRequest, SubscriberReply>({
    name: `${id}-subscribers`,
    entry: join(BENCH, "subscribers.ts"),
    logPath: join(work, `${id}-subscribers.log`),
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    await client.ready;
    // Payments go round-robin over the seeded VAs: with no subscribers, as many as the callbacks rows use.
    const { vas, cursor } = await seed(server, Math.max(subscribers, CALLBACKS.vas));
    const rssBefore = server.memory().rssBytes;
    const baseMicros = Math.floor(nowMicros());
    const connections = Math.ceil(subscribers / STREAMS_PER_CONNECTION);
    log(`${id}: opening ${subscribers} streams over ${connections} HTTP/2 connections`);
    const subscribeStart = performance.now();
    // Ramp: SUBSCRIBE_BATCH streams (whole connections) at a time, each batch once the previous is
    // live, so the measurement starts from a steady state rather than from a connection storm.
    let live = 0;
    for (let opened = 0; opened < subscribers; ) {
      const batch = vas.slice(opened, Math.min(subscribers, opened + SUBSCRIBE_BATCH));
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
        postJson(agent, url, signedCallback(SANDBOX, va, amount)).then(
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
    // Every acknowledged payment reaches its VA's one subscriber; with none, nothing is delivered.
    const expected = subscribers > 0 ? acknowledged : 0;
    let delivered: number[] = [];
    let failedStreams = 0;
    const deadline = performance.now() + 5_000;
    while (performance.now() < deadline) {
      const report = await client.request({ cmd: "report" });
      delivered = report.latenciesMs ?? [];
      failedStreams = report.failed ?? 0;
      if (delivered.length >= expected && acknowledged + callbackErrors >= total) break;
      await sleep(200);
    }
    const elapsedSeconds = (performance.now() - start) / 1000;
    const latency = summarize(delivered);
    const cpu = cpuFigures(bench, window, acknowledged);
    bench.add({
      id,
      group: "streams",
      what: `${subscribers} live subscribers, ${PAYMENT_RATE} payments/s offered (SQLite)`,
      load: `gRPC streams, ${STREAMS_PER_CONNECTION}/HTTP/2 conn; callbacks HTTP/1.1`,
      rps: round(acknowledged / Math.max(sendSeconds, window.result().wallMs / 1000), 1),
      ...(subscribers > 0 ? { latency } : {}),
      errors: callbackErrors + (total - acknowledged - callbackErrors) + Math.max(0, expected - delivered.length),
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
        failedStreams,
        callbackErrors,
        subscribeSeconds,
        elapsedSeconds: round(elapsedSeconds, 1),
        serverRssMiB: mib(memory.rssBytes),
        serverPeakRssMiB: mib(memory.peakRssBytes),
        serverRssBeforeSubscribersMiB: mib(rssBefore),
        serverRssAfterSubscribeMiB: mib(rssAfterSubscribe),
        ...(live > 0 ? { serverKiBPerStream: round((rssAfterSubscribe - rssBefore) / live / 1024, 1) } : {}),
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

/** One streams row per `--subscribers` count. */
export async function runStreams(bench: Bench) {
  for (const count of bench.options.subscriberCounts) {
    if (!bench.selected(streamsId(count), "streams")) continue;
    await streamsRow(bench, count);
  }
}
