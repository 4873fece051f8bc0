import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import type {
  HttpAnswer,
  InboundHttpRequest,
  PaymentNotification,
  ProviderCreateRequest,
  RecordingResult,
  VaProvider,
  WebhookResult,
} from "../../src/providers/provider.js";

/**
 * What every provider test needs around an adapter: a create request, a signal for its calls, and our
 * webhook route in front of `receiveWebhook`, answering as the application would.
 */

/** A signal that never aborts: a slow call fails the test by its timeout, not by a short deadline of ours. */
export const signal = new AbortController().signal;

/**
 * A builder of valid create requests: `defaults` (called per request, so times and ids are fresh)
 * over a generic request; each test overrides what it is about.
 */
export function createRequestBuilder(defaults: () => Partial<ProviderCreateRequest> = () => ({})) {
  return (overrides: Partial<ProviderCreateRequest> = {}): ProviderCreateRequest => ({
    externalId: `ext-${randomUUID()}`,
    bankCode: "BCA",
    usage: "SINGLE",
    amount: { type: "FIXED", amount: 150_000n },
    expiresAt: new Date(Date.now() + 3_600_000),
    customer: { name: "Budi Santoso", email: "budi@example.com", phone: "+628123456789" },
    numberSuffix: "",
    description: "",
    ...defaults(),
    ...overrides,
  });
}

/** A payment the adapter accepted is recorded once; a repeat of its reference is a duplicate. */
export function recordOnce(): (notification: PaymentNotification) => RecordingResult {
  const recorded = new Set<string>();
  return (notification) => {
    if (recorded.has(notification.providerPaymentRef)) return "DUPLICATE";
    recorded.add(notification.providerPaymentRef);
    return "RECORDED";
  };
}

export interface WebhookReceiver {
  /** Where the provider should deliver: the receiver's address plus `path`. */
  url: string;
  /** Every delivery, in arrival order, failed ones included. */
  requests: InboundHttpRequest[];
  /** What the adapter made of each delivery it saw. */
  results: WebhookResult[];
  /** What recording each accepted payment gave, in order. */
  outcomes: RecordingResult[];
  /** Answer the next deliveries with the outage answer, before the adapter sees them. */
  failNext: number;
  /** Answer the next payments the adapter accepts with HTTP 500, as if recording them failed. */
  failRecording: number;
  /** How recording a payment goes; `recordOnce()` unless given. */
  record: (notification: PaymentNotification) => RecordingResult;
  /** Forgets the deliveries and the failures to come (not what was recorded). */
  reset(): void;
  close(): Promise<void>;
}

export interface WebhookReceiverOptions {
  /** Mount path of the route; part of `url`. */
  path?: string;
  /** The answer to a delivery during an outage (`failNext`). */
  outage?: { status: number; body?: unknown };
  record?: (notification: PaymentNotification) => RecordingResult;
}

/** Our webhook route on a loopback port: hands the raw request to the adapter `adapter()` returns now. */
export async function startWebhookReceiver(
  adapter: () => Pick<VaProvider, "receiveWebhook">,
  options: WebhookReceiverOptions = {},
): Promise<WebhookReceiver> {
  const outage = options.outage ?? { status: 503 };
  const server = await startHttpServer(async (req, res) => {
    const inbound = await inboundRequest(req);
    receiver.requests.push(inbound);
    if (receiver.failNext > 0) {
      receiver.failNext--;
      const body = outage.body === undefined ? "" : JSON.stringify(outage.body);
      res.writeHead(outage.status, body ? { "content-type": "application/json" } : {}).end(body);
      return;
    }
    const result = await adapter().receiveWebhook(inbound);
    receiver.results.push(result);
    const answer = result.kind === "rejected" ? result.answer : recordPayment(result);
    res.writeHead(answer.status, { "content-type": answer.contentType }).end(answer.body);
  });
  const recordPayment = (payment: Extract<WebhookResult, { kind: "payment" }>): HttpAnswer => {
    if (receiver.failRecording > 0) {
      receiver.failRecording--;
      return { status: 500, contentType: "application/json", body: '{"error":"database down"}' };
    }
    const outcome = receiver.record(payment.notification);
    receiver.outcomes.push(outcome);
    return payment.answer(outcome);
  };
  const receiver: WebhookReceiver = {
    url: `${server.url}${options.path ?? ""}`,
    requests: [],
    results: [],
    outcomes: [],
    failNext: 0,
    failRecording: 0,
    record: options.record ?? recordOnce(),
    reset() {
      receiver.requests.length = 0;
      receiver.results.length = 0;
      receiver.outcomes.length = 0;
      receiver.failNext = 0;
      receiver.failRecording = 0;
    },
    close: server.close,
  };
  return receiver;
}

/** A plain HTTP server on a loopback port; `close` also drops open connections. */
export async function startHttpServer(listener: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(listener);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function inboundRequest(req: IncomingMessage): Promise<InboundHttpRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return { method: req.method ?? "", path: req.url ?? "/", headers, rawBody: Buffer.concat(chunks) };
}

/** Resolves when `condition` holds; polls, and gives up after `timeoutMs` (generous: a busy machine is slow). */
export async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
