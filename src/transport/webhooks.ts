import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { PaymentRecorder } from "../app/payments.js";
import type { ProviderRegistry } from "../app/provider-registry.js";
import type { HttpAnswer, InboundHttpRequest } from "../providers/provider.js";
import { type Logger, readBody } from "./http-util.js";

export const WEBHOOK_PREFIX = "/webhooks/";

export interface WebhookDeps {
  providers: ProviderRegistry;
  recorder: PaymentRecorder;
  log: Logger;
  maxBodyBytes: number;
}

const answerJson = (status: number, body: object): HttpAnswer => ({
  status,
  contentType: "application/json",
  body: JSON.stringify(body),
});

/**
 * `POST /webhooks/<provider>[/…]`: the provider's adapter verifies and parses the request, the
 * recorder stores the payment once, and the adapter shapes the acknowledgement its provider expects.
 */
export async function handleWebhook(
  deps: WebhookDeps,
  request: IncomingMessage | Http2ServerRequest,
  response: ServerResponse | Http2ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  const providerName = url.pathname.slice(WEBHOOK_PREFIX.length).split("/")[0] ?? "";
  const provider = deps.providers.find(providerName)?.adapter;
  let answer: HttpAnswer;
  if (!provider) {
    answer = answerJson(404, { error: "UNKNOWN_PROVIDER" });
  } else {
    const rawBody = await readBody(request, deps.maxBodyBytes);
    answer = rawBody ? await receive(deps, provider.name, toInbound(request, url.pathname, rawBody)) : answerJson(413, { error: "PAYLOAD_TOO_LARGE" });
  }
  if (response.headersSent || response.destroyed) return;
  response.writeHead(answer.status, { "content-type": answer.contentType });
  response.end(answer.body);
}

async function receive(deps: WebhookDeps, providerName: string, inbound: InboundHttpRequest): Promise<HttpAnswer> {
  const provider = deps.providers.get(providerName).adapter;
  const result = await provider.receiveWebhook(inbound);
  if (result.kind === "rejected") {
    deps.log.warn({ provider: providerName, path: inbound.path, reason: result.reason }, "webhook rejected");
    return result.answer;
  }
  try {
    const recorded = await deps.recorder.record(providerName, result.notification, "CALLBACK");
    deps.log.info(
      { provider: providerName, paymentRef: result.notification.providerPaymentRef, result: recorded },
      "payment callback",
    );
    return result.answer(recorded);
  } catch (error) {
    // The provider retries on 5xx, so a payment we could not store now is not lost.
    deps.log.error({ provider: providerName, err: error }, "payment callback could not be recorded");
    return answerJson(503, { error: "TEMPORARILY_UNAVAILABLE" });
  }
}

function toInbound(request: IncomingMessage | Http2ServerRequest, path: string, rawBody: Buffer): InboundHttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith(":")) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return { method: request.method ?? "GET", path, headers, rawBody };
}
