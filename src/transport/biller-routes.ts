import type { BillerRoute, BillerService } from "../app/biller.js";
import type { Logger } from "../logging.js";
import { snapAnswer } from "../protocols/snap/answer.js";
import { SnapOutcomes, SnapService } from "../protocols/snap/response-code.js";
import { formatSnapTimestamp } from "../protocols/snap/timestamp.js";
import type { HttpAnswer } from "../providers/provider.js";
import { BillerPath } from "../providers/snap-biller/wire.js";
import type { HttpRequest, HttpResponse } from "./http/exchange.js";
import { inboundRequest } from "./http/inbound-request.js";
import { readBody } from "./http/read-body.js";

/**
 * The SNAP biller endpoints banks call (only when `snap-biller` is configured):
 * `POST /v1.0/access-token/b2b`, `/v1.0/transfer-va/inquiry` and `/v1.0/transfer-va/payment`
 * (DANA's `.htm` spellings too). Answers carry the SNAP `X-TIMESTAMP` response header.
 */
export interface BillerRouteDeps {
  service: BillerService;
  log: Logger;
  clock: () => Date;
  maxBodyBytes: number;
}

const ROUTES: ReadonlyMap<string, BillerRoute> = new Map([
  [BillerPath.accessToken, "accessToken"],
  [BillerPath.inquiry, "inquiry"],
  [`${BillerPath.inquiry}.htm`, "inquiry"],
  [BillerPath.payment, "payment"],
  [`${BillerPath.payment}.htm`, "payment"],
] as const);

const SERVICE_OF: Record<BillerRoute, string> = {
  accessToken: SnapService.accessTokenB2b,
  inquiry: SnapService.vaInquiry,
  payment: SnapService.vaPayment,
};

export const billerRouteOf = (path: string): BillerRoute | undefined => ROUTES.get(path);

export async function handleBillerRequest(
  deps: BillerRouteDeps,
  path: string,
  request: HttpRequest,
  response: HttpResponse,
): Promise<void> {
  const route = billerRouteOf(path);
  if (!route) throw new Error(`not a biller path: ${path}`);
  const rawBody = await readBody(request, deps.maxBodyBytes);
  let answer: HttpAnswer;
  if (!rawBody) {
    answer = snapAnswer(SnapOutcomes.badRequest, SERVICE_OF[route], "Bad Request. Body Too Large");
  } else {
    // The path the bank addressed, query included and undecoded: the signature covers it verbatim.
    answer = await deps.service.handle(route, inboundRequest(request, request.url ?? "/", rawBody));
  }
  if (response.headersSent || response.destroyed) return;
  response.writeHead(answer.status, { "content-type": answer.contentType, "x-timestamp": formatSnapTimestamp(deps.clock()) });
  response.end(answer.body);
}
