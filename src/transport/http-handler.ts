import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { cors } from "@connectrpc/connect";
import type { RequestHandler } from "./one-port-server.js";
import { handleWebhook, WEBHOOK_PREFIX, type WebhookDeps } from "./webhooks.js";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

export interface HttpRoutes {
  connect: RequestHandler;
  webhooks: WebhookDeps;
  /** True when the database answers. */
  ready: () => Promise<boolean>;
  /** Origins browsers may call from; `*` for any. */
  corsOrigins: readonly string[];
}

const ALLOWED_HEADERS = [...cors.allowedHeaders, "Authorization"].join(", ");
const EXPOSED_HEADERS = cors.exposedHeaders.join(", ");

/** Routes one port's requests: CORS preflights, health, provider webhooks, then Connect RPCs. */
export function createHttpHandler(routes: HttpRoutes): RequestHandler {
  return (request, response) => {
    applyCors(routes.corsOrigins, request, response);
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    if (request.method === "OPTIONS") {
      response.writeHead(204).end();
    } else if (path === "/healthz") {
      sendJson(response, 200, { status: "ok" });
    } else if (path === "/readyz") {
      routes.ready().then(
        (ok) => sendJson(response, ok ? 200 : 503, { status: ok ? "ready" : "database unavailable" }),
        () => sendJson(response, 503, { status: "database unavailable" }),
      );
    } else if (path.startsWith(WEBHOOK_PREFIX) && request.method === "POST") {
      handleWebhook(routes.webhooks, request, response).catch((error: unknown) => {
        routes.webhooks.log.error({ err: error }, "webhook handler failed");
        if (!response.headersSent) sendJson(response, 500, { error: "INTERNAL" });
      });
    } else {
      routes.connect(request, response);
    }
  };
}

function applyCors(origins: readonly string[], request: Request, response: Response): void {
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

function sendJson(response: Response, status: number, body: object): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}
