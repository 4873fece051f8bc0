import type { Group } from "./options.js";
import { EVENT_APPENDS } from "./options.js";
import { type LatencySummary, round } from "./stats.js";

/** What a run measured: its rows, the ratios between them, the targets and the printed table. */

export interface Result {
  id: string;
  group: Group;
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
  /** Event appends: throughput over the unordered append's in the same run. */
  vsUnorderedAppend?: number;
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
    /** Streams that ended early with an error or a non-OK status. */
    failedStreams: number;
    callbackErrors: number;
    subscribeSeconds: number;
    elapsedSeconds: number;
    serverRssMiB: number;
    serverPeakRssMiB: number;
    serverRssBeforeSubscribersMiB: number;
    serverRssAfterSubscribeMiB: number;
    /** V8 heap in use right after the streams opened (RSS also holds garbage not yet collected). */
    serverHeapUsedAfterSubscribeMiB: number;
    /** (RSS once subscribed − RSS before subscribers) ÷ live streams. */
    serverKiBPerStream?: number;
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

/** Each row against the anchors (and event appends against the unordered one), from the same run. */
export function ratios(results: Result[]): void {
  const grpcJs = results.find((r) => r.id === "anchor-grpc-js");
  const connect = results.find((r) => r.id === "anchor-connect");
  for (const r of results) {
    if (r.rps === undefined || r.group === "streams" || r.group === "events" || r.skipped) continue;
    if (grpcJs?.rps) r.vsGrpcJsEcho = round(r.rps / grpcJs.rps, 3);
    if (connect?.rps) r.vsConnectEcho = round(r.rps / connect.rps, 3);
    if (grpcJs?.serverCpuUsPerRequest && r.serverCpuUsPerRequest) {
      r.cpuEfficiencyVsGrpcJsEcho = round(grpcJs.serverCpuUsPerRequest / r.serverCpuUsPerRequest, 3);
    }
  }
  const unordered = results.find((r) => r.id === "event-append-unordered" && !r.skipped);
  for (const r of results) {
    if (r.group === "events" && r.rps !== undefined && unordered?.rps) r.vsUnorderedAppend = round(r.rps / unordered.rps, 3);
  }
}

export interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean | undefined;
}

/** The targets of issue 15, each passed or failed from this run's rows (undefined: not measured). */
export function targets(results: Result[]): TargetCheck[] {
  const by = (id: string) => results.find((r) => r.id === id && !r.skipped);
  const checks: TargetCheck[] = [];
  const cpu = (r: Result | undefined) => r?.serverCpuUsPerRequest;
  const notMeasured = { measured: "not measured", pass: undefined };

  const connect = by("anchor-connect");
  const againstEcho = (label: string, id: string, max: number) => {
    const r = by(id);
    const ratio = cpu(r) && cpu(connect) ? round((cpu(r) ?? 0) / (cpu(connect) ?? 1), 2) : undefined;
    checks.push({
      target: `${label}: server CPU per request ≤ ${max}× the bare connect-node echo's`,
      ...(ratio === undefined
        ? notMeasured
        : { measured: `${ratio}× (${cpu(r)} against ${cpu(connect)} µs/req)`, pass: ratio <= max }),
    });
  };
  for (const { label, id, max } of SERVICE_TARGETS) againstEcho(label, id, max);

  const none = by("streams-0");
  const tenK = by("streams-10k");
  const perPayment = cpu(tenK) && cpu(none) ? round((cpu(tenK) ?? 0) / (cpu(none) ?? 1), 2) : undefined;
  checks.push({
    target: "10k live streams: server CPU per payment ≤ 1.5× with no streams",
    ...(perPayment === undefined
      ? notMeasured
      : { measured: `${perPayment}× (${cpu(tenK)} against ${cpu(none)} µs/payment)`, pass: perPayment <= 1.5 }),
  });
  const allDelivered = (r: Result | undefined) =>
    r?.streams !== undefined && r.streams.delivered === r.streams.sent && r.streams.live === r.streams.subscribers;
  checks.push({
    target: "10k live streams at 200 payments/s: all delivered, p99 < 50 ms, server < 0.5 core",
    ...(tenK?.latency && tenK.streams
      ? {
          measured: `p99 ${tenK.latency.p99} ms, ${tenK.serverCores} cores, ${tenK.streams.delivered}/${tenK.streams.sent} delivered, ${tenK.streams.live} live`,
          pass: allDelivered(tenK) && tenK.latency.p99 < 50 && (tenK.serverCores ?? 1) < 0.5,
        }
      : notMeasured),
  });
  checks.push({
    target: "10k live streams: ≤ 20 KB of server memory per stream",
    ...(tenK?.streams?.serverKiBPerStream === undefined
      ? notMeasured
      : {
          measured: `${tenK.streams.serverKiBPerStream} KiB/stream (RSS ${tenK.streams.serverRssBeforeSubscribersMiB} → ${tenK.streams.serverRssAfterSubscribeMiB} MiB)`,
          pass: tenK.streams.serverKiBPerStream * 1024 <= 20_000,
        }),
  });
  const fiftyK = by("streams-50k");
  checks.push({
    target: "50k live streams: all delivered, server RSS < 1.5 GiB",
    ...(fiftyK?.streams
      ? {
          measured: `${fiftyK.streams.delivered}/${fiftyK.streams.sent} delivered, ${fiftyK.streams.live} live, peak RSS ${fiftyK.streams.serverPeakRssMiB} MiB`,
          pass: allDelivered(fiftyK) && fiftyK.streams.serverPeakRssMiB < 1536,
        }
      : notMeasured),
  });

  const append = by("event-append");
  checks.push({
    target: `event appends on PostgreSQL, ${EVENT_APPENDS.writers} writers: ≥ 0.9× the same transaction without ordering`,
    measured:
      append?.vsUnorderedAppend === undefined
        ? "not measured"
        : `${append.vsUnorderedAppend}× (${append.rps}/s against ${by("event-append-unordered")?.rps}/s; earlier locked append ${by("event-append-locked")?.vsUnorderedAppend ?? "?"}×)`,
    pass: append?.vsUnorderedAppend === undefined ? undefined : append.vsUnorderedAppend >= 0.9,
  });
  return checks;
}

/** The service's rows against the bare connect-node echo, server CPU per request, same run. */
const SERVICE_TARGETS = [
  { label: "InquiryVirtualAccount over gRPC", id: "inquiry-grpc", max: 1.3 },
  // An RPC, then two commits (the idempotency claim, then VA + event + key) around a real HTTP
  // round trip to the provider simulator, which runs in this process: its client and server CPU count here.
  { label: "CreateVirtualAccount on SQLite", id: "create-sqlite", max: 7 },
  // An HTTP/1.1 POST with an HMAC check, one transaction (VA lock, payment, VA update, event) and a JSON answer.
  { label: "signed callbacks on SQLite", id: "callbacks-sqlite", max: 3 },
];

/** The rows as a text table, then the streams detail and the notes. */
export function table(results: Result[]): string {
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
    "× unordered",
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
      f(r.vsUnorderedAppend),
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
          `${s.sent} callbacks sent at ${s.paymentsPerSecond}/s, ${s.acknowledged} acknowledged (${r.rps}/s), ${s.delivered} delivered, ${s.failedStreams} streams failed; ` +
          `p50 ${r.latency?.p50} ms, p99 ${r.latency?.p99} ms, max ${r.latency?.max} ms; ` +
          `server RSS ${s.serverRssMiB} MiB (peak ${s.serverPeakRssMiB}, ${s.serverRssBeforeSubscribersMiB} before subscribers, ` +
          `${s.serverRssAfterSubscribeMiB} once subscribed: ${s.serverKiBPerStream ?? "-"} KiB/stream; heap used then ${s.serverHeapUsedAfterSubscribeMiB}), ` +
          `server ${r.serverCores} cores, event-loop delay p99 ${s.serverLoopDelayP99Ms} ms (max ${s.serverLoopDelayMaxMs}), ` +
          `GC pauses max ${s.serverGcPauseMaxMs} ms (total ${s.serverGcPauseTotalMs})`,
      );
    }
  }
  const notes = results.filter((r) => r.note);
  if (notes.length > 0) out.push("", ...notes.map((r) => `note ${r.id}: ${r.note}`));
  return out.join("\n");
}
