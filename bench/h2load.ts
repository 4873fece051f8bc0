import { execFile, spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http2 from "node:http2";
import { type LatencySummary, summarize } from "./stats.js";
import { raisePriority } from "./system.js";

/** h2load (Debian/Ubuntu: `apt-get install nghttp2-client`) version, or undefined when missing. */
export function h2loadVersion(): string | undefined {
  const probe = spawnSync("h2load", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) return undefined;
  return probe.stdout.trim();
}

/** A gRPC length-prefixed message: 1 byte compressed flag (0), 4 bytes big-endian length, the bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

export type WireProtocol = "grpc" | "connect";

/** Request headers h2load sends (besides :method POST, :path, :authority, content-length). */
export function protocolHeaders(protocol: WireProtocol, extra: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> =
    protocol === "grpc"
      ? { "content-type": "application/grpc", te: "trailers" }
      : { "content-type": "application/proto", "connect-protocol-version": "1" };
  return { ...base, ...extra };
}

/** The body file h2load posts: gRPC-framed for gRPC, the bare message for Connect unary. */
export function writeBody(path: string, protocol: WireProtocol, message: Uint8Array): void {
  writeFileSync(path, protocol === "grpc" ? grpcFrame(message) : Buffer.from(message));
}

/**
 * Sends exactly what h2load will send, once, and checks the RPC succeeded. h2load only sees the
 * HTTP status, and gRPC reports failures with HTTP 200 and a `grpc-status` trailer.
 */
export async function verifyUnary(options: {
  url: string;
  path: string;
  protocol: WireProtocol;
  headers: Record<string, string>;
  bodyFile: string;
}): Promise<Uint8Array> {
  const session = http2.connect(options.url);
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      session.on("error", reject);
      const stream = session.request({ ":method": "POST", ":path": options.path, ...options.headers });
      const chunks: Buffer[] = [];
      let status = 0;
      let grpcStatus: string | undefined;
      let grpcMessage: string | undefined;
      stream.on("response", (headers) => {
        status = Number(headers[":status"]);
        if (headers["grpc-status"] !== undefined) grpcStatus = String(headers["grpc-status"]);
      });
      stream.on("trailers", (trailers) => {
        grpcStatus = String(trailers["grpc-status"]);
        grpcMessage = trailers["grpc-message"] === undefined ? undefined : decodeURIComponent(String(trailers["grpc-message"]));
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", reject);
      stream.on("end", () => {
        const body = Buffer.concat(chunks);
        if (status !== 200) return reject(new Error(`${options.path}: HTTP ${status} ${body.toString("utf8").slice(0, 200)}`));
        if (options.protocol === "grpc") {
          if (grpcStatus !== "0") return reject(new Error(`${options.path}: grpc-status ${grpcStatus} ${grpcMessage ?? ""}`));
          return resolve(body.subarray(5));
        }
        resolve(body);
      });
      stream.end(readFileSync(options.bodyFile));
    });
  } finally {
    session.close();
  }
}

export interface H2loadResult {
  rps: number;
  requests: number;
  succeeded: number;
  failed: number;
  errored: number;
  latency: LatencySummary;
  command: string;
}

/**
 * `h2load -D duration --warm-up-time warmup -c connections -m streams -d body`, binary gRPC or
 * Connect. Throughput from h2load's own summary (measurement phase only); p50/p99 from its
 * per-request `--log-file` (h2load logs the measurement phase only; the file is replaced each run).
 */
export async function runH2load(options: {
  url: string;
  path: string;
  headers: Record<string, string>;
  bodyFile: string;
  connections: number;
  streams: number;
  durationS: number;
  warmupS: number;
  logFile: string;
}): Promise<H2loadResult> {
  const args = [
    "-D",
    String(options.durationS),
    "--warm-up-time",
    String(options.warmupS),
    "-c",
    String(options.connections),
    "-m",
    String(options.streams),
    "-t",
    "1",
    "-d",
    options.bodyFile,
    "--log-file",
    options.logFile,
    ...Object.entries(options.headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
    `${options.url}${options.path}`,
  ];
  rmSync(options.logFile, { force: true });
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile("h2load", args, { maxBuffer: 16 << 20 }, (error, out, err) =>
      error ? reject(new Error(`h2load failed: ${error.message}\n${out}\n${err}`)) : resolve(out),
    );
    raisePriority(child.pid);
  });
  const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout)?.[1] ?? Number.NaN);
  const counts = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout);
  if (!counts || Number.isNaN(rps)) throw new Error(`cannot parse h2load output:\n${stdout}`);
  const latencies: number[] = [];
  for (const line of readFileSync(options.logFile, "utf8").split("\n")) {
    const [, status, micros] = line.split("\t");
    if (micros === undefined || status !== "200") continue;
    latencies.push(Number(micros) / 1000);
  }
  const redacted = args.map((a) => (a.startsWith("authorization:") ? "authorization: Bearer …" : a));
  return {
    rps,
    requests: Number(counts[1]),
    succeeded: Number(counts[4]),
    failed: Number(counts[5]),
    errored: Number(counts[6]),
    latency: summarize(latencies),
    command: `h2load ${redacted.map((a) => (/[\s:]/.test(a) ? `'${a}'` : a)).join(" ")}`,
  };
}
