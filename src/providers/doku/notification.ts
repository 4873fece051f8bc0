import type { HttpAnswer, InboundHttpRequest, RecordingResult, WebhookResult } from "../provider.js";
import { jsonAnswer } from "../shared/wire-helpers.js";
import { hasValidSignature, isWithinClockSkew, MAX_CLOCK_SKEW_SECONDS, parseDokuTimestamp } from "./signature.js";
import { DOKU, dokuErrorBody, readNotification } from "./transformers.js";

/** What verifying DOKU's HTTP notification (reference §4.3, §4.4) takes. */
export interface NotificationVerifier {
  clientId: string;
  secretKey: string;
  /**
   * The path DOKU signs: that of the Notification URL configured at DOKU. Unset: the path the
   * request arrived on, which is wrong behind a proxy that rewrites paths.
   */
  notificationPath: string | undefined;
  now: () => Date;
}

/**
 * Verifies the signature over the exact bytes received and reads the payment. A correctly signed
 * notification whose timestamp is more than five minutes off is not refused: DOKU retries 30 min,
 * 6 h and 12 h after the first attempt and no source says a retry is timestamped again, so it is
 * passed on as doubtful, to be confirmed through check status. DOKU only looks at the HTTP status:
 * 2xx stops its retries, anything else is retried on that schedule (DOKU "Retry Notification").
 */
export function receiveDokuNotification(request: InboundHttpRequest, verifier: NotificationVerifier): WebhookResult {
  if (request.method !== "POST") return rejected(405, "method_not_allowed", "notifications are POSTed");
  const clientId = request.headers["client-id"];
  const requestId = request.headers["request-id"];
  const requestTimestamp = request.headers["request-timestamp"];
  const signature = request.headers.signature;
  if (!clientId || !requestId || !requestTimestamp || !signature) {
    return rejected(400, "invalid_header", "Client-Id, Request-Id, Request-Timestamp and Signature are required");
  }
  if (clientId !== verifier.clientId) return rejected(400, "invalid_client_id", "Client-Id is not ours");
  const requestTarget = verifier.notificationPath ?? request.path;
  const parts = { clientId, requestId, requestTimestamp, requestTarget, body: request.rawBody };
  if (!hasValidSignature(signature, parts, verifier.secretKey)) {
    return rejected(400, "invalid_signature", "Signature does not match the request");
  }
  const rawPayload = request.rawBody.toString("utf8");
  const reading = readNotification(rawPayload);
  if (reading.kind === "invalid") return rejected(400, "invalid_parameter", reading.problem);
  if (reading.kind === "not-a-payment") {
    return { kind: "rejected", answer: jsonAnswer(200, {}), reason: `transaction status ${reading.status} is not a payment` };
  }
  const { payment } = reading;
  const doubt = staleness(requestTimestamp, verifier.now());
  return {
    kind: "payment",
    notification: {
      providerAccount: clientId,
      providerPaymentRef: payment.providerPaymentRef,
      vaNumber: payment.vaNumber,
      amount: payment.amount,
      fee: undefined,
      paidAt: payment.paidAt,
      rawPayload,
      providerVaId: payment.invoiceNumber,
    },
    belief: doubt === undefined ? { verified: true } : { verified: false, doubt },
    answer: acknowledge,
  };
}

/** Why a signed notification cannot be believed as fresh, if it cannot. */
function staleness(requestTimestamp: string, now: Date): string | undefined {
  const sentAt = parseDokuTimestamp(requestTimestamp);
  if (sentAt === undefined) return "Request-Timestamp is not a UTC ISO-8601 instant";
  if (isWithinClockSkew(sentAt, now)) return undefined;
  const minutes = Math.round((now.getTime() - sentAt.getTime()) / 60_000);
  return `Request-Timestamp is ${minutes} min from our clock (more than ${MAX_CLOCK_SKEW_SECONDS} s): a late retry or a replay`;
}

/**
 * Any 2xx acknowledges. REFUTED (DOKU's check status denies the payment) is answered 404, which DOKU
 * retries like any non-2xx, so a payment whose status was not yet final is looked at again.
 * ID_REUSED cannot occur: DOKU notifications carry no request-id guard.
 */
function acknowledge(result: RecordingResult): HttpAnswer {
  if (result === "REFUTED")
    return jsonAnswer(404, dokuErrorBody("not_found", "DOKU's check status does not confirm this payment"));
  return jsonAnswer(200, {});
}

function rejected(status: number, code: string, message: string): WebhookResult {
  return { kind: "rejected", answer: jsonAnswer(status, dokuErrorBody(code, message)), reason: `${DOKU}: ${message}` };
}
