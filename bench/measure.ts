import { join } from "node:path";
import type { Bench } from "./context.js";
import { type H2loadResult, protocolHeaders, runH2load, verifyUnary, type WireProtocol, writeBody } from "./h2load.js";
import { API_KEY, H2 } from "./options.js";
import type { Result } from "./report.js";
import type { ServerChild } from "./servers.js";
import { round } from "./stats.js";
import { CpuWindow } from "./system.js";

/** Building blocks every scenario measures with: CPU over a window, and an h2load row. */

/** Server, database and machine CPU over `window`, per completed request. */
export function cpuFigures(bench: Bench, window: CpuWindow, completed: number) {
  const { serverCpuMs, dbCpuMs, machineBusyMs, wallMs } = window.result();
  bench.lastWindow = { fromUs: window.monotonicStartUs, toUs: window.monotonicEndUs };
  return {
    serverCpuUsPerRequest: completed > 0 ? round((serverCpuMs * 1000) / completed, 0) : undefined,
    serverCores: wallMs > 0 ? round(serverCpuMs / wallMs, 2) : undefined,
    machineCores: wallMs > 0 ? round(machineBusyMs / wallMs, 2) : undefined,
    dbCpuUsPerRequest: dbCpuMs !== undefined && completed > 0 ? round((dbCpuMs * 1000) / completed, 0) : undefined,
  };
}

/** h2load against one server, measuring the server's CPU over the measured window. */
export async function h2loadRow(
  bench: Bench,
  options: {
    server: ServerChild;
    path: string;
    protocol: WireProtocol;
    message: Uint8Array;
    name: string;
    auth: boolean;
    check: (response: Uint8Array) => void;
  },
): Promise<
  Pick<Result, "rps" | "latency" | "errors" | "command" | "serverCpuUsPerRequest" | "serverCores" | "machineCores" | "note">
> {
  const { durationS, warmupS, work } = bench.options;
  const bodyFile = join(work, `${options.name}.body`);
  writeBody(bodyFile, options.protocol, options.message);
  const headers = protocolHeaders(options.protocol, options.auth ? { authorization: `Bearer ${API_KEY}` } : {});
  options.check(
    await verifyUnary({ url: options.server.url, path: options.path, protocol: options.protocol, headers, bodyFile }),
  );
  const window = new CpuWindow([options.server.pid], false);
  const startTimer = setTimeout(() => window.mark("start"), warmupS * 1000);
  let result: H2loadResult;
  try {
    result = await runH2load({
      url: options.server.url,
      path: options.path,
      headers,
      bodyFile,
      connections: H2.connections,
      streams: H2.streams,
      durationS,
      warmupS,
      logFile: join(work, `${options.name}.h2load.log`),
    });
  } finally {
    clearTimeout(startTimer);
  }
  window.mark("end");
  return {
    rps: round(result.rps, 1),
    latency: result.latency,
    errors: result.failed + result.errored + (result.requests - result.succeeded - result.failed - result.errored),
    command: result.command,
    ...cpuFigures(bench, window, Math.round(result.rps * durationS)),
    ...(result.succeeded === 0 ? { note: "no request succeeded" } : {}),
  };
}
