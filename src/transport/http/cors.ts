import { cors } from "@connectrpc/connect";
import type { HttpRequest, HttpResponse } from "./exchange.js";

const ALLOWED_HEADERS = [...cors.allowedHeaders, "Authorization", "X-Request-Id"].join(", ");
const EXPOSED_HEADERS = [...cors.exposedHeaders, "X-Request-Id"].join(", ");

/** CORS headers for a browser calling from one of `origins` (`*` for any); other origins get none. */
export function applyCors(origins: readonly string[], request: HttpRequest, response: HttpResponse): void {
  const origin = request.headers.origin;
  if (!origin) return;
  const allowed = origins.includes("*") || origins.includes(origin);
  if (!allowed) return;
  response.setHeader("access-control-allow-origin", origins.includes("*") ? "*" : origin);
  response.setHeader("vary", "origin");
  response.setHeader("access-control-allow-methods", cors.allowedMethods.join(", "));
  response.setHeader("access-control-allow-headers", ALLOWED_HEADERS);
  response.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  response.setHeader("access-control-max-age", "7200");
}
