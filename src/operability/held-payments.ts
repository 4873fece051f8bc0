import { createHash, timingSafeEqual } from "node:crypto";
import type { HeldPayment, HeldState } from "../domain/payment.js";
import type { HttpResponse } from "../transport/http/exchange.js";
import { type PlainRoute, sendJson } from "../transport/http/plain-route.js";

export interface HeldPaymentsDeps {
  list(filter: { state?: HeldState; provider?: string }, limit: number): Promise<HeldPayment[]>;
  /** Unset: the route answers 403 and says how to enable it. */
  operatorKey: string | undefined;
}

const STATES = new Set<HeldState>(["HELD", "RECORDED", "REFUTED"]);
const MAX_LIMIT = 500;

/**
 * `GET /operator/held-payments[?state=HELD|RECORDED|REFUTED&provider=…&limit=…]` with
 * `authorization: Bearer <VA_OPERATOR_KEY>`: payments providers reported that are (or were) not on a
 * VA: awaiting the provider's confirmation, or matching no VA. Newest first, as JSON; money as
 * decimal strings. Not tenant-scoped (a payment that matches no VA has no tenant), hence its own key.
 */
export function heldPaymentsRoute(deps: HeldPaymentsDeps): PlainRoute {
  const keyHash = deps.operatorKey ? sha256(deps.operatorKey) : undefined;
  return {
    path: "/operator/held-payments",
    handle(request, response) {
      if (!keyHash) return send(response, 403, { error: "operator routes are off: set VA_OPERATOR_KEY" });
      const presented = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ""))?.[1];
      if (!presented || !timingSafeEqual(sha256(presented), keyHash)) {
        return send(response, 401, { error: "authorization: Bearer <VA_OPERATOR_KEY> required" });
      }
      const query = new URL(request.url ?? "/", "http://localhost").searchParams;
      const state = query.get("state") ?? "HELD";
      if (!STATES.has(state as HeldState))
        return send(response, 400, { error: "state must be HELD, RECORDED or REFUTED", field: "state" });
      const limit = Number(query.get("limit") ?? "100");
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        return send(response, 400, { error: `limit must be an integer from 1 to ${MAX_LIMIT}`, field: "limit" });
      }
      const filter = { state: state as HeldState, provider: query.get("provider") ?? undefined };
      deps.list(filter, limit).then(
        (held) => send(response, 200, { heldPayments: held.map(toJson) }),
        () => send(response, 503, { error: "database unavailable" }),
      );
    },
  };
}

function toJson(held: HeldPayment) {
  const { payment } = held;
  return {
    id: held.id,
    provider: held.provider,
    providerAccount: payment.providerAccount,
    providerPaymentReference: payment.providerPaymentRef,
    providerVirtualAccountId: payment.providerVaId ?? null,
    vaNumber: payment.vaNumber,
    amount: payment.amount.toString(),
    fee: payment.fee?.toString() ?? null,
    paidAt: payment.paidAt.toISOString(),
    reason: held.reason,
    detail: held.detail,
    state: held.state,
    attempts: held.attempts,
    nextAttemptAt: held.nextAttemptAt.toISOString(),
    receivedAt: held.receivedAt.toISOString(),
    resolvedAt: held.resolvedAt?.toISOString() ?? null,
    virtualAccountId: held.virtualAccountId ?? null,
    rawProviderPayload: payment.rawPayload,
  };
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest();

const send = (response: HttpResponse, status: number, body: object) =>
  sendJson(response, status, body, { "cache-control": "no-store" });
