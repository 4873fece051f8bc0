/**
 * Live stream subscribers, in their own process so that the server's RSS is measured alone and
 * receive timestamps are not delayed by the load driver. Spawned by bench/run.ts with IPC.
 *
 * Each subscriber follows one VA (`StreamPaymentEvents{virtual_account_id, after_cursor}`, the
 * checkout-page pattern, resuming from a cursor as after a reconnect) over gRPC; `streamsPerConnection` streams share one HTTP/2 connection (one
 * connect-node transport = one Http2SessionManager = one connection). A PAYMENT_RECEIVED event's
 * amount carries the driver's send time (µs after `baseMicros`), so latency = now − send time.
 */
import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EventType, VaService } from "../src/gen/va/v1/va_pb.js";
import type { SubscriberReply, SubscriberRequest } from "./protocol.js";

const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;

let established = 0;
let failed = 0;
let latenciesMs: number[] = [];
const stop = new AbortController();
// One signal ends every stream: each call adds an abort listener to it.
setMaxListeners(0, stop.signal);

async function follow(
  client: Client<typeof VaService>,
  virtualAccountId: string,
  afterCursor: string,
  baseMicros: number,
): Promise<void> {
  let first = true;
  try {
    for await (const message of client.streamPaymentEvents(
      { filter: { case: "virtualAccountId", value: virtualAccountId }, afterCursor },
      { signal: stop.signal },
    )) {
      if (message.kind.case !== "event") continue;
      const event = message.kind.value;
      if (first) {
        first = false;
        established++;
      }
      if (event.type === EventType.PAYMENT_RECEIVED && event.payment) {
        latenciesMs.push((nowMicros() - (baseMicros + Number(event.payment.amount))) / 1000);
      }
    }
  } catch (error) {
    if (stop.signal.aborted) return;
    failed++;
    if (failed <= 3) console.error(`stream for ${virtualAccountId} failed: ${String(error)}`);
  }
}

function open(request: Extract<SubscriberRequest, { cmd: "open" }>): void {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${request.apiKey}`);
    return next(req);
  };
  let client: Client<typeof VaService> | undefined;
  request.virtualAccountIds.forEach((id, index) => {
    if (index % request.streamsPerConnection === 0 || !client) {
      // A new transport brings its own Http2SessionManager, i.e. its own HTTP/2 connection.
      client = createClient(
        VaService,
        createGrpcTransport({ baseUrl: request.url, interceptors: [auth], pingIntervalMs: 60_000 }),
      );
    }
    void follow(client, id, request.afterCursor, request.baseMicros);
  });
}

process.on("message", (message: SubscriberRequest) => {
  const send = (reply: SubscriberReply) => process.send?.(reply);
  try {
    switch (message.cmd) {
      case "open":
        open(message);
        send({ rid: message.rid, ok: true });
        break;
      case "reset":
        latenciesMs = [];
        send({ rid: message.rid, ok: true });
        break;
      case "report":
        send({ rid: message.rid, ok: true, established, failed, latenciesMs, rss: process.memoryUsage.rss() });
        break;
      case "close":
        stop.abort();
        send({ rid: message.rid, ok: true });
        setTimeout(() => process.exit(0), 200);
        break;
    }
  } catch (error) {
    send({ rid: message.rid, ok: false, error: String(error) });
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ rid: 0, ok: true, ready: true } satisfies SubscriberReply);
