import type { Bench } from "../context.js";
import { log } from "../context.js";
import { createRequest } from "../fixtures.js";
import { cpuFigures } from "../measure.js";
import { closedLoop, grpcClients } from "../node-load.js";
import { API_KEY, CREATE, type Group } from "../options.js";
import type { ServerChild } from "../servers.js";
import { round } from "../stats.js";
import { CpuWindow } from "../system.js";

/** CreateVirtualAccount, closed loop: 32 in flight over 4 HTTP/2 connections (spread over `servers`). */
export async function createRow(bench: Bench, id: string, group: Group, what: string, servers: ServerChild[], database: boolean) {
  const { durationS, warmupS } = bench.options;
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
  log(`${id}: ${CREATE.concurrency} concurrent creates, ${durationS}s`);
  const result = await closedLoop({
    concurrency: CREATE.concurrency,
    durationS,
    warmupS,
    onMeasure: (phase) => window.mark(phase),
    call: async (worker) => {
      const client = clients[worker % clients.length];
      if (!client) throw new Error("no client");
      const response = await client.createVirtualAccount(createRequest());
      if (!response.virtualAccount?.vaNumber) throw new Error("create answered no VA number");
    },
  });
  bench.add({
    id,
    group,
    what,
    load: `Node gRPC client: ${CREATE.concurrency} in flight, ${CREATE.connections} HTTP/2 conns${servers.length > 1 ? ` over ${servers.length} replicas` : ""}`,
    rps: round(result.rps, 1),
    latency: result.latency,
    errors: result.errors,
    ...cpuFigures(bench, window, result.completed),
    ...(result.firstError ? { note: `first error: ${result.firstError}` } : {}),
  });
}
