import { DomainError } from "../domain/errors.js";

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
  headers: Headers;
  text: string;
}

/**
 * One outbound call to a provider. Network failures become UNAVAILABLE and a timeout (ours or the
 * caller's deadline) DEADLINE_EXCEEDED; HTTP error statuses are returned for the adapter to map,
 * because only it knows the provider's error body.
 */
export async function callProvider(request: ProviderHttpRequest): Promise<ProviderHttpResponse> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([timeout, request.signal]);
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: { "content-type": "application/json", accept: "application/json", ...request.headers },
      body: request.body,
      signal,
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (error) {
    if (timeout.aborted || request.signal.aborted) {
      throw new DomainError("DEADLINE_EXCEEDED", `${request.provider} did not answer in time`, {
        provider: request.provider,
      });
    }
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new DomainError("UNAVAILABLE", `${request.provider} could not be reached: ${reason}`, {
      provider: request.provider,
    });
  }
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
