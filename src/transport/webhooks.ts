import { type Span, SpanStatusCode } from "@opentelemetry/api";
import type { CallbackIntake } from "../app/callbacks.js";
import type { ProviderRegistry } from "../app/provider-registry.js";
import type { Logger } from "../logging.js";
import type { HttpAnswer, InboundHttpRequest } from "../providers/provider.js";
import { jsonAnswer } from "../providers/shared/wire-helpers.js";
import { continueTrace, inSpan, SpanKind, tracingOn } from "../tracing.js";
import type { HttpRequest, HttpResponse } from "./http/exchange.js";
import { inboundRequest } from "./http/inbound-request.js";
import { readBody } from "./http/read-body.js";
import { REQUEST_ID_HEADER, requestIdFrom } from "./http/request-id.js";

export const WEBHOOK_PREFIX = "/webhooks/";

export interface WebhookDeps {
  providers: ProviderRegistry;
  intake: CallbackIntake;
  log: Logger;
  maxBodyBytes: number;
  /** Told how each callback ended (metrics). */
  observe?: (outcome: WebhookOutcome) => void;
}

export interface WebhookOutcome {
  /** "unknown" when the path names no configured provider. */
  provider: string;
  result: "verified" | "rejected" | "unknown_provider" | "too_large";
  /** For verified callbacks: what recording did (`recorded`, `duplicate`, …) or `failed`. */
  recorded?: string;
}

/** Adds the request id to every line a webhook logs. */
const withRequestId = (log: Logger, requestId: string): Logger => ({
  info: (fields, message) => log.info({ requestId, ...fields }, message),
  warn: (fields, message) => log.warn({ requestId, ...fields }, message),
  error: (fields, message) => log.error({ requestId, ...fields }, message),
});

/**
 * `POST /webhooks/<provider>[/…]`: the provider's adapter verifies and parses the request, the
 * intake believes, confirms or holds it and records the payment once, and the adapter shapes the
 * acknowledgement its provider expects. With tracing on it is a server span (continuing the
 * provider's `traceparent` if it sends one), the parent of the transactions that record it.
 */
export function handleWebhook(deps: WebhookDeps, request: HttpRequest, response: HttpResponse): Promise<void> {
  if (!tracingOn()) return answerWebhook(deps, request, response, undefined);
  const span = { kind: SpanKind.SERVER, parent: continueTrace(request.headers), attributes: WEBHOOK_SPAN_ATTRIBUTES };
  return inSpan(`POST ${WEBHOOK_ROUTE}`, span, (started) => answerWebhook(deps, request, response, started));
}

const WEBHOOK_ROUTE = `${WEBHOOK_PREFIX}{provider}`;
const WEBHOOK_SPAN_ATTRIBUTES = { "http.request.method": "POST", "http.route": WEBHOOK_ROUTE };

async function answerWebhook(
  deps: WebhookDeps,
  request: HttpRequest,
  response: HttpResponse,
  span: Span | undefined,
): Promise<void> {
  const started = performance.now();
  const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
  const log = withRequestId(deps.log, requestId);
  const url = new URL(request.url ?? "/", "http://localhost");
  const providerName = url.pathname.slice(WEBHOOK_PREFIX.length).split("/")[0] ?? "";
  const provider = deps.providers.find(providerName)?.adapter;
  let answer: HttpAnswer;
  if (!provider) {
    deps.observe?.({ provider: "unknown", result: "unknown_provider" });
    answer = jsonAnswer(404, { error: "UNKNOWN_PROVIDER" });
  } else {
    const rawBody = await readBody(request, deps.maxBodyBytes);
    if (!rawBody) deps.observe?.({ provider: provider.name, result: "too_large" });
    answer = rawBody
      ? await receive({ ...deps, log }, provider.name, inboundRequest(request, url.pathname, rawBody))
      : jsonAnswer(413, { error: "PAYLOAD_TOO_LARGE" });
  }
  const durationMs = Math.round(performance.now() - started);
  if (span) endWebhookSpan(span, provider?.name, answer.status);
  log.info(
    { provider: providerName.slice(0, 32), path: url.pathname.slice(0, 200), status: answer.status, durationMs },
    "webhook",
  );
  if (response.headersSent || response.destroyed) return;
  response.writeHead(answer.status, { "content-type": answer.contentType, [REQUEST_ID_HEADER]: requestId });
  response.end(answer.body);
}

function endWebhookSpan(span: Span, provider: string | undefined, status: number): void {
  if (provider) span.setAttribute("va.provider", provider);
  span.setAttribute("http.response.status_code", status);
  // A server span fails on 5xx only: a 4xx is the caller's doing.
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
}

async function receive(deps: WebhookDeps, providerName: string, inbound: InboundHttpRequest): Promise<HttpAnswer> {
  const provider = deps.providers.get(providerName).adapter;
  const result = await provider.receiveWebhook(inbound);
  if (result.kind === "rejected") {
    deps.observe?.({ provider: providerName, result: "rejected" });
    deps.log.warn({ provider: providerName, path: inbound.path, reason: result.reason }, "webhook rejected");
    return result.answer;
  }
  try {
    const { notification, belief, requestIdGuard } = result;
    const recorded = await deps.intake.receive(provider, notification, belief, requestIdGuard);
    deps.observe?.({ provider: providerName, result: "verified", recorded: recorded.toLowerCase() });
    const fields = { provider: providerName, paymentRef: notification.providerPaymentRef, result: recorded };
    if (recorded === "HELD" || recorded === "REFUTED") {
      deps.log.warn(
        { ...fields, doubt: belief.verified ? "no virtual account matches it" : belief.doubt },
        "payment callback not recorded",
      );
    } else {
      deps.log.info(fields, "payment callback");
    }
    return result.answer(recorded);
  } catch (error) {
    // Nothing was stored: the provider retries on 5xx, so the payment is not lost.
    deps.observe?.({ provider: providerName, result: "verified", recorded: "failed" });
    deps.log.error({ provider: providerName, err: error }, "payment callback could not be recorded");
    return jsonAnswer(503, { error: "TEMPORARILY_UNAVAILABLE" });
  }
}
