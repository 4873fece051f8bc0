/**
 * Live stream subscribers, in their own process so that the server's RSS is measured alone and
 * receive timestamps are not delayed by the load driver. Spawned by bench/run.ts with IPC.
 *
 * Each subscriber follows one VA (`StreamPaymentEvents{virtual_account_id, after_cursor}`, the
 * checkout-page pattern, resuming from a cursor as after a reconnect) over gRPC; `streamsPerConnection`
 * streams share one HTTP/2 connection. A PAYMENT_RECEIVED event's amount carries the driver's send
 * time (µs after `baseMicros`), so latency = now − send time.
 *
 * A load generator, not a client library: gRPC is spoken directly over node:http2 (length-prefixed
 * messages, status in the trailers), and only events are decoded; heartbeats are recognised by their
 * first byte. With tens of thousands of streams a full client's per-message pipeline would make this
 * process, not the server, the bottleneck on a small machine.
 */
import * as http2 from "node:http2";
import { performance } from "node:perf_hooks";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  EventType,
  StreamPaymentEventsRequestSchema,
  StreamPaymentEventsResponseSchema,
  VaService,
} from "../src/gen/va/v1/va_pb.js";
import type { SubscriberReply, SubscriberRequest } from "./protocol.js";

const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;
const PATH = `/${VaService.typeName}/${VaService.method.streamPaymentEvents.name}`;
/** Tag of `StreamPaymentEventsResponse.event` (field 1, length-delimited): the first byte of an event message. */
const EVENT_TAG = 0x0a;

let failed = 0;
let latenciesMs: number[] = [];
let closing = false;
const sessions: http2.ClientHttp2Session[] = [];

function fail(virtualAccountId: string, reason: string): void {
  if (closing) return;
  failed++;
  if (failed <= 3) console.error(`stream for ${virtualAccountId} failed: ${reason}`);
}

/** gRPC's length-prefixed framing: 1 byte compressed flag, 4 bytes big-endian length, the message. */
function frame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

function onMessage(message: Uint8Array, baseMicros: number): void {
  if (message[0] !== EVENT_TAG) return;
  const { kind } = fromBinary(StreamPaymentEventsResponseSchema, message);
  if (kind.case !== "event") return;
  if (kind.value.type === EventType.PAYMENT_RECEIVED && kind.value.payment) {
    latenciesMs.push((nowMicros() - (baseMicros + Number(kind.value.payment.amount))) / 1000);
  }
}

function follow(
  session: http2.ClientHttp2Session,
  request: Extract<SubscriberRequest, { cmd: "open" }>,
  virtualAccountId: string,
): void {
  const stream = session.request({
    ":method": "POST",
    ":path": PATH,
    "content-type": "application/grpc+proto",
    te: "trailers",
    authorization: `Bearer ${request.apiKey}`,
  });
  const body = create(StreamPaymentEventsRequestSchema, {
    filter: { case: "virtualAccountId", value: virtualAccountId },
    afterCursor: request.afterCursor,
  });
  stream.end(frame(toBinary(StreamPaymentEventsRequestSchema, body)));
  let status: string | undefined;
  stream.on("response", (headers) => {
    if (headers[":status"] !== 200) fail(virtualAccountId, `HTTP ${headers[":status"]}`);
    status = headers["grpc-status"] as string | undefined;
  });
  stream.on("trailers", (trailers) => {
    status = trailers["grpc-status"] as string | undefined;
  });
  let pending: Buffer | undefined;
  stream.on("data", (chunk: Buffer) => {
    let data = pending ? Buffer.concat([pending, chunk]) : chunk;
    while (data.length >= 5) {
      const end = 5 + data.readUInt32BE(1);
      if (data.length < end) break;
      onMessage(data.subarray(5, end), request.baseMicros);
      data = data.subarray(end);
    }
    pending = data.length > 0 ? data : undefined;
  });
  stream.on("error", (error) => fail(virtualAccountId, String(error)));
  stream.on("close", () => {
    if (status !== undefined && status !== "0") fail(virtualAccountId, `grpc-status ${status}`);
    else if (!closing && status === undefined) fail(virtualAccountId, "ended without a status");
  });
}

function open(request: Extract<SubscriberRequest, { cmd: "open" }>): void {
  let session: http2.ClientHttp2Session | undefined;
  request.virtualAccountIds.forEach((id, index) => {
    if (index % request.streamsPerConnection === 0 || !session) {
      session = http2.connect(request.url);
      session.on("error", (error) => fail("(connection)", String(error)));
      sessions.push(session);
    }
    follow(session, request, id);
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
        send({ rid: message.rid, ok: true, failed, latenciesMs, rss: process.memoryUsage.rss() });
        break;
      case "close":
        closing = true;
        for (const session of sessions) session.destroy();
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
