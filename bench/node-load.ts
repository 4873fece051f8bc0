import * as http from "node:http";
import { performance } from "node:perf_hooks";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { VaService } from "../src/gen/va/v1/va_pb.js";
import { type LatencySummary, Samples, summarize } from "./stats.js";

export interface ClosedLoopResult {
  rps: number;
  completed: number;
  errors: number;
  firstError: string | undefined;
  latency: LatencySummary;
}

/**
 * `concurrency` workers each run `call` back to back for warm-up + duration. Calls that finish
 * inside the measured window count (throughput and latency alike), as h2load counts them.
 * `onMeasure` fires at the start and the end of the measured window (for CPU readings).
 */
export async function closedLoop(options: {
  concurrency: number;
  durationS: number;
  warmupS: number;
  call: (worker: number, sequence: number) => Promise<void>;
  onMeasure?: (phase: "start" | "end") => void;
}): Promise<ClosedLoopResult> {
  const t0 = performance.now();
  const measureFrom = t0 + options.warmupS * 1000;
  const end = measureFrom + options.durationS * 1000;
  const samples = new Samples();
  let errors = 0;
  let firstError: string | undefined;
  let sequence = 0;
  const startTimer = setTimeout(() => options.onMeasure?.("start"), options.warmupS * 1000);
  const worker = async (index: number) => {
    while (performance.now() < end) {
      const started = performance.now();
      try {
        await options.call(index, sequence++);
        const finished = performance.now();
        if (finished >= measureFrom && finished <= end) samples.push(finished - started);
      } catch (error) {
        const finished = performance.now();
        if (finished >= measureFrom && finished <= end) errors++;
        firstError ??= String((error as Error)?.message ?? error);
        if (errors > 1000 && samples.count === 0) break;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  clearTimeout(startTimer);
  options.onMeasure?.("end");
  return {
    rps: samples.count / options.durationS,
    completed: samples.count,
    errors,
    firstError,
    latency: summarize(samples.values()),
  };
}

/** A VaService client per HTTP/2 connection: each connect-node gRPC transport owns one session. */
export function grpcClients(urls: string[], connections: number, apiKey: string): Client<typeof VaService>[] {
  const auth: Interceptor = (next) => (request) => {
    request.header.set("authorization", `Bearer ${apiKey}`);
    return next(request);
  };
  return Array.from({ length: connections }, (_, i) =>
    createClient(VaService, createGrpcTransport({ baseUrl: urls[i % urls.length] ?? "", interceptors: [auth] })),
  );
}

/** POSTs one webhook over a keep-alive agent; resolves with the HTTP status. */
export function postJson(
  agent: http.Agent,
  url: string,
  delivery: { headers: Record<string, string>; body: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: "POST", agent, headers: { ...delivery.headers, "content-length": Buffer.byteLength(delivery.body) } },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(delivery.body);
  });
}
