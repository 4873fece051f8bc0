import { formatRupiah2 } from "../../domain/money.js";
import type { VirtualAccount } from "../../domain/virtual-account.js";
import { snapAnswer, unauthorizedAnswer } from "../../protocols/snap/answer.js";
import { externalIdReusedAnswer, type Rejection, type VerifiedSnapRequest } from "../../protocols/snap/inbound-request.js";
import { toSnapMoney } from "../../protocols/snap/money.js";
import { SnapService } from "../../protocols/snap/response-code.js";
import type { BankInquiryRequest, BankOutcome, BankReading, BankRefusal, KeptAnswer, ShownBill } from "../biller.js";
import type { HttpAnswer, InboundHttpRequest } from "../provider.js";
import { isRecord } from "../shared/wire-helpers.js";
import { BillerOutcomes, numberDigits, paddedPartnerServiceId, readInquiryRequest } from "../snap-biller/wire.js";
import { decodeReference, trxTypeOf } from "./transformers.js";

/**
 * DIPC (Direct Inquiry): the VA lives only with us; when a payer keys its number in at the bank,
 * DOKU forwards the bank's inquiry (SNAP service 24) to our Inquiry URL and we answer with the bill.
 * Reading the request and shaping every answer is here; looking the bill up, quoting it and keeping
 * the answer for a repeat is the biller's inquiry use case (`app/biller/inquiry.ts`), which the
 * wiring hands to the adapter (`attachInquiries`). The payment that follows arrives as DOKU's
 * ordinary payment notification, recorded once by its `paymentRequestId`.
 */

/** What handles a read inquiry: the biller's `BankInquiries.receive`. */
export type DipcInquiries = (inquiry: BankInquiryRequest) => Promise<BankOutcome>;

export type VerifyInquiry = (
  request: InboundHttpRequest,
  now: Date,
) => Promise<{ ok: true; request: VerifiedSnapRequest } | Rejection>;

const svc = SnapService.vaInquiry;

/** Reads DOKU's forwarded inquiry into the biller's request, with DOKU's answer shapes. */
export async function readDipcInquiry(
  request: InboundHttpRequest,
  now: Date,
  partnerServiceId: string,
  verify: VerifyInquiry,
): Promise<BankReading<BankInquiryRequest>> {
  const verdict = await verify(request, now);
  if (!verdict.ok) return { kind: "rejected", answer: verdict.answer, reason: verdict.reason };
  const reading = readInquiryRequest(request.rawBody);
  if (!reading.ok) return { kind: "rejected", answer: reading.answer, reason: reading.reason };
  const inquiry = reading.value;
  const channel = channelNamed(request.rawBody);
  return {
    kind: "request",
    request: {
      partnerId: verdict.request.partnerId,
      requestIdGuard: verdict.request.requestIdGuard,
      receivedAt: now,
      virtualAccountNo: inquiry.virtualAccountNo,
      vaNumber: numberDigits(inquiry.virtualAccountNo),
      ours: paddedPartnerServiceId(inquiry.partnerServiceId) === partnerServiceId,
      sameNumber: (sent) => numberDigits(sent) === numberDigits(inquiry.virtualAccountNo),
      inquiryRequestId: inquiry.inquiryRequestId,
      amount: inquiry.amount,
      billAnswer: (bill) => kept(billAnswer(inquiry, inquiry.inquiryRequestId, channel, bill)),
    },
    answer: answerOf,
  };
}

/** The channel DOKU names in `additionalInfo.channel`, echoed in our answer (SDK README sample). */
function channelNamed(rawBody: Buffer): string | undefined {
  try {
    const body: unknown = JSON.parse(rawBody.toString("utf8"));
    const info = isRecord(body) && isRecord(body.additionalInfo) ? body.additionalInfo : {};
    return typeof info.channel === "string" ? info.channel : undefined;
  } catch {
    return undefined;
  }
}

const kept = (answer: HttpAnswer): KeptAnswer => ({ status: answer.status, body: answer.body });

/**
 * `2002400` with the bill, shaped like the SDK README's `directInquiryVa` answer: `additionalInfo`
 * carries our `trxId` (DOKU's payment notification names it) and `virtualAccountConfig`.
 */
export function billAnswer(
  identity: { partnerServiceId: string; customerNo: string; virtualAccountNo: string },
  inquiryRequestId: string,
  channel: string | undefined,
  { va, totalAmount }: ShownBill,
): HttpAnswer {
  const { trxId } = decodeReference(va.providerReference);
  return snapAnswer(BillerOutcomes.successful, svc, BillerOutcomes.successful.message, {
    virtualAccountData: {
      partnerServiceId: identity.partnerServiceId,
      customerNo: identity.customerNo,
      virtualAccountNo: identity.virtualAccountNo,
      virtualAccountName: billName(va),
      ...(va.customer.email === "" ? {} : { virtualAccountEmail: va.customer.email }),
      ...(va.customer.phone === "" ? {} : { virtualAccountPhone: va.customer.phone }),
      totalAmount: toSnapMoney(totalAmount ?? 0n),
      virtualAccountTrxType: trxTypeOf(va.amount),
      additionalInfo: {
        ...(channel === undefined ? {} : { channel }),
        trxId,
        virtualAccountConfig: {
          reusableStatus: va.usage === "MULTI",
          ...(va.amount.type === "RANGE"
            ? { minAmount: formatRupiah2(va.amount.min), maxAmount: formatRupiah2(va.amount.max) }
            : {}),
        },
      },
      inquiryStatus: "00",
      inquiryReason: { english: "Success", indonesia: "Sukses" },
      inquiryRequestId,
    },
  });
}

const billName = (va: VirtualAccount) => (va.customer.name.trim() || va.merchantReference).slice(0, 255);

const outcome = (httpStatus: number, caseCode: string, message: string) => ({ httpStatus, caseCode, message });

/**
 * Refusals with the codes DOKU's SDK answers DIPC inquiries with (`InquiryRequestDTO.validateSimulator`,
 * `vaService.mapResponseCodeV1Snap`): `4042412` bill not found, `4042414` paid, `4042419` expired,
 * `5002401` failure; the rest from the SNAP table (§2.8).
 */
const REFUSALS: Record<BankRefusal, () => HttpAnswer> = {
  REQUEST_ID_REUSED: () => externalIdReusedAnswer(svc),
  STALE: () => unauthorizedAnswer(svc, "Stale Timestamp"),
  INQUIRY_ID_REUSED: () => snapAnswer(BillerOutcomes.inconsistentRequest, svc),
  UNKNOWN_BILL: () => snapAnswer(BillerOutcomes.invalidBill, svc, "Bill not found"),
  NUMBER_REASSIGNED: () => snapAnswer(BillerOutcomes.invalidBill, svc, "Bill not found"),
  BILL_PAID: () => snapAnswer(BillerOutcomes.paidBill, svc, "Bill has been paid"),
  BILL_CANCELLED: () => snapAnswer(BillerOutcomes.invalidBill, svc, "Bill not found"),
  BILL_EXPIRED: () => snapAnswer(BillerOutcomes.expiredBill, svc, "Bill expired"),
  WRONG_AMOUNT: () => snapAnswer(BillerOutcomes.invalidAmount, svc),
  NO_SUCH_INQUIRY: () => snapAnswer(BillerOutcomes.transactionNotFound, svc),
  INQUIRY_EXPIRED: () => snapAnswer(BillerOutcomes.transactionExpired, svc),
};

/** `5002401`: we could not answer now; DOKU (the bank) may ask again. */
export const INQUIRY_FAILED = snapAnswer(outcome(500, "01", "Unexpected Failure"), svc);

export function answerOf(result: BankOutcome): HttpAnswer {
  switch (result.kind) {
    case "ANSWERED":
      return { status: result.answer.status ?? 200, contentType: "application/json", body: result.answer.body };
    case "REFUSED":
      return REFUSALS[result.refusal]();
    case "FAILED":
      return INQUIRY_FAILED;
  }
}
