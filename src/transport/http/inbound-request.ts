import type { InboundHttpRequest } from "../../providers/provider.js";
import type { HttpRequest } from "./exchange.js";

/**
 * A provider's or bank's request as its adapter verifies and parses it: header names lower-cased,
 * repeated headers joined, HTTP/2 pseudo-headers left out. `path` is the one the caller signed.
 */
export function inboundRequest(request: HttpRequest, path: string, rawBody: Buffer): InboundHttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith(":")) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return { method: request.method ?? "GET", path, headers, rawBody };
}
