import type { BankInquiries } from "../app/biller/inquiry.js";
import type { BankPayments } from "../app/biller/payment.js";
import type { Logger } from "../logging.js";
import { snapAnswer } from "../protocols/snap/answer.js";
import { SnapOutcomes, SnapService } from "../protocols/snap/response-code.js";
import { formatSnapTimestamp } from "../protocols/snap/timestamp.js";
import type { BankOutcome, BankReading, BillerProvider } from "../providers/biller.js";
import type { HttpAnswer, InboundHttpRequest } from "../providers/provider.js";
import { BillerPath } from "../providers/snap-biller/wire.js";
import type { HttpRequest, HttpResponse } from "./http/exchange.js";
import { inboundRequest } from "./http/inbound-request.js";
import { readBody } from "./http/read-body.js";

/**
 * The SNAP biller endpoints banks call (only when `snap-biller` is configured):
 * `POST /v1.0/access-token/b2b`, `/v1.0/transfer-va/inquiry` and `/v1.0/transfer-va/payment`
 * (DANA's `.htm` spellings too). The provider verifies and reads each request, the use case does
 * its work, and the provider shapes the answer, which carries the SNAP `X-TIMESTAMP` response header.
 */
export interface BillerRouteDeps {
  provider: BillerProvider;
  inquiries: BankInquiries;
  payments: BankPayments;
  log: Logger;
  clock: () => Date;
  maxBodyBytes: number;
}

type BillerRoute = "accessToken" | "inquiry" | "payment";

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
    answer = await answerBank(deps, route, inboundRequest(request, request.url ?? "/", rawBody));
  }
  if (response.headersSent || response.destroyed) return;
  response.writeHead(answer.status, { "content-type": answer.contentType, "x-timestamp": formatSnapTimestamp(deps.clock()) });
  response.end(answer.body);
}

async function answerBank(deps: BillerRouteDeps, route: BillerRoute, inbound: InboundHttpRequest): Promise<HttpAnswer> {
  const { provider } = deps;
  const now = deps.clock();
  switch (route) {
    case "accessToken":
      return provider.issueAccessToken(inbound);
    case "inquiry":
      return serve(deps, SERVICE_OF[route], await provider.readInquiry(inbound, now), (inquiry) =>
        deps.inquiries.receive(inquiry),
      );
    case "payment":
      return serve(deps, SERVICE_OF[route], await provider.readPayment(inbound, now), (payment) =>
        deps.payments.receive(payment),
      );
  }
}

async function serve<T>(
  deps: BillerRouteDeps,
  service: string,
  reading: BankReading<T>,
  useCase: (request: T) => Promise<BankOutcome>,
): Promise<HttpAnswer> {
  const provider = deps.provider.name;
  if (reading.kind === "rejected") return refused(deps, service, reading.answer, reading.reason);
  let outcome: BankOutcome;
  try {
    outcome = await useCase(reading.request);
  } catch (error) {
    // Nothing was kept; the bank retries and may use the same X-EXTERNAL-ID.
    deps.log.error({ provider, service, err: error }, "biller request failed");
    outcome = { kind: "FAILED" };
  }
  const answer = reading.answer(outcome);
  return outcome.kind === "REFUSED" ? refused(deps, service, answer, outcome.reason) : answer;
}

function refused(deps: BillerRouteDeps, service: string, answer: HttpAnswer, reason: string): HttpAnswer {
  deps.log.warn({ provider: deps.provider.name, service, reason, answer: answer.body }, "bank request refused");
  return answer;
}
