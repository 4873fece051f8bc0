import type { IncomingMessage } from "node:http";
import { type BillerRouteDeps, billerRouteOf, handleBillerRequest } from "./biller-routes.js";
import { applyCors } from "./http/cors.js";
import type { HttpRequest, HttpResponse } from "./http/exchange.js";
import type { RequestHandler } from "./http/one-port-server.js";
import { type PlainRoute, sendJson } from "./http/plain-route.js";
import { handleWebhook, WEBHOOK_PREFIX, type WebhookDeps } from "./webhooks.js";

export interface HttpRoutes {
  connect: RequestHandler;
  webhooks: WebhookDeps;
  /** True when the database answers. */
  ready: () => Promise<boolean>;
  /** Origins browsers may call from; `*` for any. */
  corsOrigins: readonly string[];
  /** SNAP biller endpoints banks call (`/v1.0/transfer-va/…`); only when `snap-biller` is configured. */
  biller?: BillerRouteDeps;
  /** Further `GET` routes by exact path (metrics, the sandbox page), tried before Connect. */
  getRoutes?: readonly PlainRoute[];
}

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
    } else if (path.startsWith(WEBHOOK_PREFIX)) {
      handleWebhook(routes.webhooks, request, response).catch((error: unknown) => {
        routes.webhooks.log.error({ err: error }, "webhook handler failed");
        if (!response.headersSent) sendJson(response, 500, { error: "INTERNAL" });
      });
    } else if (routes.biller && request.method === "POST" && billerRouteOf(path)) {
      const biller = routes.biller;
      handleBillerRequest(biller, path, request, response).catch((error: unknown) => {
        biller.log.error({ err: error }, "biller handler failed");
        if (!response.headersSent) sendJson(response, 500, { error: "INTERNAL" });
      });
    } else {
      const route = request.method === "GET" ? routes.getRoutes?.find((r) => r.path === path) : undefined;
      if (route) route.handle(request, response);
      else {
        closeUnreadHttp1Connection(request, response);
        routes.connect(request, response);
      }
    }
  };
}

/**
 * connect-node answers some requests (e.g. one over the size limit) without reading their body; on
 * a kept-alive HTTP/1.1 connection the unread rest would then be taken for the next request, which
 * never gets an answer. Close such a connection once the answer is out. (HTTP/2 streams are
 * independent and need nothing.)
 */
function closeUnreadHttp1Connection(request: HttpRequest, response: HttpResponse): void {
  if (request.httpVersionMajor !== 1) return;
  const socket = (request as IncomingMessage).socket;
  response.on("finish", () => {
    if (!request.complete) socket.destroySoon();
  });
}
