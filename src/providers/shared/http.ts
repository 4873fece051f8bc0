import { channel } from "node:diagnostics_channel";
import { type Attributes, type Span, SpanStatusCode } from "@opentelemetry/api";
import { request as undiciRequest } from "undici";
import { DomainError } from "../../domain/errors.js";
import { endSpan, injectTraceContext, runInSpan, SpanKind, startSpan, tracingOn } from "../../tracing.js";

export interface ProviderHttpRequest {
  provider: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  /** Sent byte for byte: sign exactly this string. */
  body?: string;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ProviderHttpResponse {
  status: number;
  text: string;
}

/** Every finished provider call is published here (metrics subscribe: src/operability/metrics.ts). */
export const PROVIDER_CALL_CHANNEL = "va-gateway.provider-call";
export interface ProviderCallReport {
  provider: string;
  method: string;
  durationMs: number;
  status?: number;
  failure?: "timeout" | "unreachable";
}
const providerCalls = channel(PROVIDER_CALL_CHANNEL);
const report = (request: ProviderHttpRequest, started: number, outcome: Pick<ProviderCallReport, "status" | "failure">) => {
  if (!providerCalls.hasSubscribers) return;
  const durationMs = performance.now() - started;
  providerCalls.publish({
    provider: request.provider,
    method: request.method,
    durationMs,
    ...outcome,
  } satisfies ProviderCallReport);
};

/** Pauses before each retry of a read; writes are never retried here (their adapters decide). */
const READ_RETRY_DELAYS_MS = [100, 400];

/**
 * One outbound call to a provider. Network failures become UNAVAILABLE and a timeout (ours or the
 * caller's deadline) DEADLINE_EXCEEDED; HTTP error statuses are returned for the adapter to map,
 * because only it knows the provider's error body. GETs, being idempotent, are retried with backoff
 * on network failures and 5xx answers.
 */
export async function callProvider(request: ProviderHttpRequest): Promise<ProviderHttpResponse> {
  const delays = request.method === "GET" ? READ_RETRY_DELAYS_MS : [];
  for (let attempt = 0; ; attempt++) {
    const last = attempt >= delays.length || request.signal.aborted;
    try {
      const response = await callOnce(request);
      if (response.status < 500 || last) return response;
    } catch (error) {
      if (last || (error instanceof DomainError && error.kind === "DEADLINE_EXCEEDED")) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
  }
}

/**
 * undici's `request` rather than `fetch`: the same client and keep-alive pool underneath, without
 * WHATWG streams, Request/Response objects and header guards (a create's server CPU fell from 2450
 * to 2040–2150 µs in the bench). undici is pinned to the version Node 20.20 bundles for `fetch`
 * (6.24.1): loading it installs its Agent as the process-wide dispatcher that the built-in `fetch`
 * also uses, so the two must be the same code.
 */
async function callOnce(request: ProviderHttpRequest): Promise<ProviderHttpResponse> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([timeout, request.signal]);
  const span = tracingOn()
    ? startSpan(request.method, { kind: SpanKind.CLIENT, attributes: spanAttributes(request) })
    : undefined;
  try {
    const headers = { "content-type": "application/json", accept: "application/json", ...request.headers };
    // A provider that traces joins our trace.
    runInSpan(span, () => injectTraceContext(headers));
    const response = await undiciRequest(request.url, { method: request.method, headers, body: request.body, signal });
    const text = await response.body.text();
    report(request, started, { status: response.statusCode });
    if (span) endProviderSpan(span.span, response.statusCode);
    return { status: response.statusCode, text };
  } catch (error) {
    const timedOut = timeout.aborted || request.signal.aborted;
    report(request, started, { failure: timedOut ? "timeout" : "unreachable" });
    if (span) endProviderSpan(span.span, timedOut ? "timeout" : "unreachable", error);
    if (timedOut) {
      throw new DomainError("DEADLINE_EXCEEDED", `${request.provider} did not answer in time`, {
        provider: request.provider,
      });
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new DomainError("UNAVAILABLE", `${request.provider} could not be reached: ${reason}`, {
      provider: request.provider,
    });
  }
}

/** OpenTelemetry's HTTP client attributes; the URL without its query, which may carry credentials. */
function spanAttributes(request: ProviderHttpRequest): Attributes {
  const url = new URL(request.url);
  return {
    "va.provider": request.provider,
    "http.request.method": request.method,
    "server.address": url.hostname,
    "server.port": Number(url.port) || (url.protocol === "https:" ? 443 : 80),
    "url.full": `${url.origin}${url.pathname}`,
  };
}

/** A call is failed when the provider answered an error status or did not answer at all. */
function endProviderSpan(span: Span, outcome: number | "timeout" | "unreachable", error?: unknown): void {
  if (typeof outcome === "number") {
    span.setAttribute("http.response.status_code", outcome);
    if (outcome >= 400) {
      span.setAttribute("error.type", String(outcome));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
    return;
  }
  span.setAttribute("error.type", outcome);
  endSpan(span, error);
}

/** A 5xx or otherwise unexpected answer: the provider is having trouble, not our caller. */
export function providerUnavailable(provider: string, response: ProviderHttpResponse): DomainError {
  return new DomainError("UNAVAILABLE", `${provider} answered HTTP ${response.status}`, {
    provider,
    providerCode: String(response.status),
    providerMessage: response.text.slice(0, 500),
  });
}

/** Parses a provider's JSON body; a body that is not JSON is the provider misbehaving. */
export function parseProviderJson(provider: string, response: ProviderHttpResponse): unknown {
  try {
    return JSON.parse(response.text);
  } catch {
    throw new DomainError("UNAVAILABLE", `${provider} answered a malformed body (HTTP ${response.status})`, {
      provider,
      providerCode: String(response.status),
      providerMessage: response.text.slice(0, 500),
    });
  }
}
