import type { HttpAnswer, InboundHttpRequest, RecordingResult, WebhookResult } from "../provider.js";
import { hasValidSignature, isWithinClockSkew, parseDokuTimestamp } from "./signature.js";
import { DOKU, dokuErrorBody, paymentReference, readNotification } from "./transformers.js";

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
 * Verifies the signature over the exact bytes received, refuses timestamps off by more than five
 * minutes, and reads the payment. DOKU only looks at the HTTP status: 2xx stops its retries.
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
  const sentAt = parseDokuTimestamp(requestTimestamp);
  if (sentAt === undefined || !isWithinClockSkew(sentAt, verifier.now())) {
    return rejected(400, "invalid_timestamp", "Request-Timestamp is not within five minutes of our clock");
  }
  const rawPayload = request.rawBody.toString("utf8");
  const reading = readNotification(rawPayload);
  if (reading.kind === "invalid") return rejected(400, "invalid_parameter", reading.problem);
  if (reading.kind === "not-a-payment") {
    return { kind: "rejected", answer: json(200, {}), reason: `transaction status ${reading.status} is not a payment` };
  }
  const { payment } = reading;
  return {
    kind: "payment",
    notification: {
      providerAccount: clientId,
      providerPaymentRef: paymentReference(payment.invoiceNumber, payment.referenceNumber ?? requestId),
      vaNumber: payment.vaNumber,
      amount: payment.amount,
      fee: undefined,
      paidAt: payment.paidAt,
      rawPayload,
    },
    answer: acknowledge,
  };
}

function acknowledge(result: RecordingResult): HttpAnswer {
  if (result === "UNKNOWN_VIRTUAL_ACCOUNT") {
    return json(404, dokuErrorBody("not_found", "no virtual account with this number"));
  }
  return json(200, {});
}

function rejected(status: number, code: string, message: string): WebhookResult {
  return { kind: "rejected", answer: json(status, dokuErrorBody(code, message)), reason: `${DOKU}: ${message}` };
}

const json = (status: number, body: unknown): HttpAnswer => ({
  status,
  contentType: "application/json",
  body: JSON.stringify(body),
});
