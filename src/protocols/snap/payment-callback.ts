import type {
  HttpAnswer,
  InboundHttpRequest,
  PaymentNotification,
  RecordingResult,
  WebhookResult,
} from "../../providers/provider.js";
import { badFieldAnswer, missingFieldAnswer, snapAnswer } from "./answer.js";
import {
  externalIdReusedAnswer,
  type InboundCheck,
  type VerifiedSnapRequest,
  verifyInboundSnapRequest,
} from "./inbound-request.js";
import { SnapOutcomes } from "./response-code.js";

/**
 * What every SNAP payment callback shares, whoever sends it: the body read into a payment or a
 * field fault, the `400` answers to a fault, verification before reading, and our answers once the
 * payment is recorded. Each provider brings its reader, its notification and its service code.
 */

/** Why a SNAP body could not be read: not a JSON object of the expected shape, or one field missing or malformed. */
export type SnapBodyFault = { ok: false; problem: "unreadable" } | { ok: false; problem: "missing" | "format"; field: string };

export const UNREADABLE_BODY: SnapBodyFault = { ok: false, problem: "unreadable" };
export const missingField = (field: string): SnapBodyFault => ({ ok: false, problem: "missing", field });
export const malformedField = (field: string): SnapBodyFault => ({ ok: false, problem: "format", field });

/** `400xx00` for an unreadable body, `400xx02` for a missing field, `400xx01` for a malformed one. */
export function snapBodyRefusal(
  fault: SnapBodyFault,
  serviceCode: string,
  unreadableReason = "body is not a JSON object",
): { answer: HttpAnswer; reason: string } {
  if (fault.problem === "unreadable")
    return { answer: snapAnswer(SnapOutcomes.badRequest, serviceCode), reason: unreadableReason };
  const answer =
    fault.problem === "missing" ? missingFieldAnswer(serviceCode, fault.field) : badFieldAnswer(serviceCode, fault.field);
  return { answer, reason: `${fault.problem} ${fault.field}` };
}

/** A callback body read: the payment it reports, or why it cannot be read. */
export type SnapCallbackReading<T> = { ok: true; payment: T } | SnapBodyFault;

export interface SnapPaymentCallbackCheck<T> extends Omit<InboundCheck, "staleIsDoubt" | "externalIds"> {
  read: (rawBody: Buffer) => SnapCallbackReading<T>;
  /** The logged reason for an unreadable body, where "not a JSON object" would not say it. */
  unreadableReason?: string;
}

type Rejected = Extract<WebhookResult, { kind: "rejected" }>;

/**
 * Verifies a payment callback, then reads its body. A stale X-TIMESTAMP on a correct signature is
 * a doubt (`request.doubt`), not a refusal: a provider's retry may carry its first attempt's.
 */
export async function verifySnapPaymentCallback<T>(
  request: InboundHttpRequest,
  check: SnapPaymentCallbackCheck<T>,
): Promise<{ ok: true; payment: T; request: VerifiedSnapRequest } | { ok: false; rejected: Rejected }> {
  const { read, unreadableReason, ...inbound } = check;
  const verdict = await verifyInboundSnapRequest(request, { ...inbound, staleIsDoubt: true });
  if (!verdict.ok) return { ok: false, rejected: { kind: "rejected", answer: verdict.answer, reason: verdict.reason } };
  const reading = read(request.rawBody);
  if (!reading.ok) {
    return { ok: false, rejected: { kind: "rejected", ...snapBodyRefusal(reading, check.serviceCode, unreadableReason) } };
  }
  return { ok: true, payment: reading.payment, request: verdict.request };
}

/** The payment a verified callback reports, believed unless there is a doubt (by default the verifier's). */
export function callbackPayment(
  verified: VerifiedSnapRequest,
  notification: PaymentNotification,
  answer: (result: RecordingResult) => HttpAnswer,
  doubt = verified.doubt,
): WebhookResult {
  return {
    kind: "payment",
    notification,
    belief: doubt ? { verified: false, doubt } : { verified: true },
    requestIdGuard: verified.requestIdGuard,
    answer,
  };
}

/**
 * Our answers to a payment callback once it is recorded: `200 xx00` for a payment we recorded or
 * hold (the provider stops retrying), `404 xx12` only when the provider's own API denies it, and
 * `409 xx00` for a used X-EXTERNAL-ID with another body.
 */
export function snapCallbackAnswers(
  serviceCode: string,
  shape: { refutedMessage?: string; acknowledgedExtra?: Record<string, unknown> } = {},
): (result: RecordingResult) => HttpAnswer {
  const acknowledged = snapAnswer(SnapOutcomes.successful, serviceCode, undefined, shape.acknowledgedExtra);
  const refuted = snapAnswer(SnapOutcomes.invalidBill, serviceCode, shape.refutedMessage);
  const reused = externalIdReusedAnswer(serviceCode);
  return (result) => (result === "REFUTED" ? refuted : result === "ID_REUSED" ? reused : acknowledged);
}
