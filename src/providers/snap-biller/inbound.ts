import { snapAnswer, unauthorizedAnswer } from "../../protocols/snap/answer.js";
import { externalIdReusedAnswer, type Rejection, type VerifiedSnapRequest } from "../../protocols/snap/inbound-request.js";
import { SnapService } from "../../protocols/snap/response-code.js";
import type { BankOutcome, BankReading, BankRefusal, KeptAnswer, ShownBill } from "../biller.js";
import type { HttpAnswer, InboundHttpRequest } from "../provider.js";
import { billAdditionalInfo, billName, trxTypeOf } from "./bill.js";
import {
  type BillerIdentity,
  BillerOutcomes,
  inquiryAnswer,
  numberDigits,
  paddedPartnerServiceId,
  paymentAnswer,
  readInquiryRequest,
  readPaymentRequest,
} from "./wire.js";

/**
 * The protocol half of the SNAP biller (providers.md §3): verifies and reads the bank's Inquiry (24)
 * and Payment (25) into the biller's requests, and turns each outcome into the SNAP answer. The X-EXTERNAL-ID
 * is not claimed here: the use case claims it in the transaction that does the request's work.
 */

export type VerifyBankRequest = (
  request: InboundHttpRequest,
  serviceCode: string,
  now: Date,
  options?: { staleIsDoubt?: boolean },
) => Promise<{ ok: true; request: VerifiedSnapRequest } | Rejection>;

/** `partnerServiceId`: ours, 8 characters, space-padded. */
export function createBillerInbound(partnerServiceId: string, verify: VerifyBankRequest) {
  /** What the two requests share: the verified bank and the number it names. */
  const bankRequest = (verified: VerifiedSnapRequest, identity: BillerIdentity, now: Date) => ({
    partnerId: verified.partnerId,
    requestIdGuard: verified.requestIdGuard,
    receivedAt: now,
    virtualAccountNo: identity.virtualAccountNo,
    vaNumber: numberDigits(identity.virtualAccountNo),
    ours: paddedPartnerServiceId(identity.partnerServiceId) === partnerServiceId,
    sameNumber: (sent: string) => numberDigits(sent) === numberDigits(identity.virtualAccountNo),
  });

  return {
    /** Service 24: the bank asks for the bill of a number. */
    async readInquiry(request: InboundHttpRequest, now: Date) {
      const service = SnapService.vaInquiry;
      const verdict = await verify(request, service, now);
      if (!verdict.ok) return rejected(verdict);
      const reading = readInquiryRequest(request.rawBody);
      if (!reading.ok) return rejected(reading);
      const inquiry = reading.value;
      const billAnswer = ({ va, totalAmount }: ShownBill) =>
        kept(
          inquiryAnswer({
            identity: inquiry,
            virtualAccountName: billName(va),
            inquiryRequestId: inquiry.inquiryRequestId,
            totalAmount,
            trxType: trxTypeOf(va),
            additionalInfo: billAdditionalInfo(va),
          }),
        );
      return accepted(service, {
        ...bankRequest(verdict.request, inquiry, now),
        inquiryRequestId: inquiry.inquiryRequestId,
        amount: inquiry.amount,
        billAnswer,
      });
    },

    /** Service 25: the bank tells of a payment. A correctly signed but stale one may be its late advice of one we answered. */
    async readPayment(request: InboundHttpRequest, now: Date) {
      const service = SnapService.vaPayment;
      const verdict = await verify(request, service, now, { staleIsDoubt: true });
      if (!verdict.ok) return rejected(verdict);
      const reading = readPaymentRequest(request.rawBody);
      if (!reading.ok) return rejected(reading);
      const payment = reading.value;
      return accepted(service, {
        ...bankRequest(verdict.request, payment, now),
        paymentRequestId: payment.paymentRequestId,
        paidAmount: payment.paidAmount,
        trxId: payment.trxId,
        doubt: verdict.request.doubt,
        rawPayload: request.rawBody.toString("utf8"),
        paidAnswer: ({ va, totalAmount }: ShownBill) => kept(paymentAnswer(payment, billName(va), totalAmount)),
      });
    },
  };
}

const rejected = ({ answer, reason }: { answer: HttpAnswer; reason: string }) => ({ kind: "rejected" as const, answer, reason });

const accepted = <T>(service: string, request: T): BankReading<T> => ({
  kind: "request",
  request,
  answer: (outcome) => answerOf(outcome, service),
});

const kept = (answer: HttpAnswer): KeptAnswer => ({ status: answer.status, body: answer.body });

/** The codes are §2.8's; the message follows the table's `[Reason]` pattern. */
const REFUSALS: Record<BankRefusal, (service: string) => HttpAnswer> = {
  REQUEST_ID_REUSED: externalIdReusedAnswer,
  STALE: (service) => unauthorizedAnswer(service, "Stale Timestamp"),
  INQUIRY_ID_REUSED: (service) => snapAnswer(BillerOutcomes.inconsistentRequest, service),
  UNKNOWN_BILL: (service) => snapAnswer(BillerOutcomes.invalidBill, service, `${BillerOutcomes.invalidBill.message} Not Found`),
  NUMBER_REASSIGNED: (service) => snapAnswer(BillerOutcomes.invalidBill, service),
  BILL_PAID: (service) => snapAnswer(BillerOutcomes.paidBill, service),
  BILL_CANCELLED: (service) => snapAnswer(BillerOutcomes.invalidBill, service, `${BillerOutcomes.invalidBill.message} Cancelled`),
  BILL_EXPIRED: (service) => snapAnswer(BillerOutcomes.expiredBill, service),
  WRONG_AMOUNT: (service) => snapAnswer(BillerOutcomes.invalidAmount, service),
  NO_SUCH_INQUIRY: (service) => snapAnswer(BillerOutcomes.transactionNotFound, service),
  INQUIRY_EXPIRED: (service) => snapAnswer(BillerOutcomes.transactionExpired, service),
};

function answerOf(outcome: BankOutcome, service: string): HttpAnswer {
  switch (outcome.kind) {
    case "ANSWERED":
      return { status: outcome.answer.status ?? 200, contentType: "application/json", body: outcome.answer.body };
    case "REFUSED":
      return REFUSALS[outcome.refusal](service);
    case "FAILED":
      // `500xx01`: the bank retries, and may use the same X-EXTERNAL-ID.
      return snapAnswer(BillerOutcomes.internalServerError, service);
  }
}
