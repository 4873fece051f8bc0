import * as http from "node:http";
import type { Bench } from "../context.js";
import { log } from "../context.js";
import { signedCallback } from "../fixtures.js";
import { cpuFigures } from "../measure.js";
import { closedLoop, postJson } from "../node-load.js";
import { CALLBACKS, SANDBOX } from "../options.js";
import { type ServerChild, seed } from "../servers.js";
import { round } from "../stats.js";
import { CpuWindow } from "../system.js";

/** Signed sandbox payment callbacks, unique payment ids, 32 in flight, round-robin over 1000 VAs. */
export async function callbacksRow(bench: Bench, id: string, what: string, server: ServerChild, database: boolean) {
  const { durationS, warmupS } = bench.options;
  const { vas } = await seed(server, CALLBACKS.vas);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CALLBACKS.concurrency });
  const url = `${server.url}/webhooks/sandbox`;
  const first = vas[0];
  if (!first) throw new Error("seeding failed");
  const status = await postJson(agent, url, signedCallback(SANDBOX, first, 10_000n));
  if (status !== 200) throw new Error(`${id}: webhook answered HTTP ${status}`);
  const window = new CpuWindow([server.pid], database);
  log(`${id}: ${CALLBACKS.concurrency} concurrent callbacks, ${durationS}s`);
  const result = await closedLoop({
    concurrency: CALLBACKS.concurrency,
    durationS,
    warmupS,
    onMeasure: (phase) => window.mark(phase),
    call: async (_worker, sequence) => {
      const va = vas[sequence % vas.length];
      if (!va) throw new Error("no VA");
      const answer = await postJson(agent, url, signedCallback(SANDBOX, va, 10_000n));
      if (answer !== 200) throw new Error(`webhook answered HTTP ${answer}`);
    },
  });
  agent.destroy();
  bench.add({
    id,
    group: "callbacks",
    what,
    load: `${CALLBACKS.concurrency} POSTs in flight, HTTP/1.1 keep-alive, ${CALLBACKS.vas} VAs`,
    rps: round(result.rps, 1),
    latency: result.latency,
    errors: result.errors,
    ...cpuFigures(bench, window, result.completed),
    ...(result.firstError ? { note: `first error: ${result.firstError}` } : {}),
  });
}
