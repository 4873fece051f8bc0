import type { HttpRequest, HttpResponse } from "./exchange.js";

/** A plain-HTTP `GET` route served by exact path beside the RPCs (metrics, operator routes, the sandbox page). */
export interface PlainRoute {
  path: string;
  handle(request: HttpRequest, response: HttpResponse): void;
}

/** Answers with a JSON body, unless an answer is already under way or the client is gone. */
export function sendJson(response: HttpResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}
