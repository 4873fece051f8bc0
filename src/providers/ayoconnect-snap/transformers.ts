import { createHash } from "node:crypto";
import { DomainError, invalidArgument } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { checkVaNumber } from "../../domain/virtual-account.js";
import { parseSnapMoney, toSnapMoney } from "../../protocols/snap/money.js";
import {
  malformedField,
  missingField,
  type SnapCallbackReading,
  UNREADABLE_BODY,
} from "../../protocols/snap/payment-callback.js";
import { requestFieldsFrom } from "../../protocols/snap/provider-answer.js";
import { formatSnapTimestamp, parseSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { isPartnerServiceId, padPartnerServiceId, payerDigits } from "../../protocols/snap/va-number.js";
import type {
  Confirmation,
  PaymentNotification,
  ProviderCreateRequest,
  ProviderVaRef,
  ProviderVirtualAccount,
} from "../provider.js";
import { cannotConfirmNow, confirmedAs } from "../shared/confirmation.js";
import { isRecord, parseJsonObject } from "../shared/wire-helpers.js";
import { type AyoconnectSnapBank, bankByCode, MAX_LIFETIME_MS } from "./capabilities.js";
import {
  AYOCONNECT_SNAP,
  type AyoconnectSnapCreateVaRequest,
  type AyoconnectSnapInquiryVaRequest,
  type AyoconnectSnapUpdateVaRequest,
  type IsSingleUse,
} from "./wire.js";

/** Pure mapping between our model and Ayoconnect's SNAP wire format. */

/** `trxId`: exactly 32 alphanumerics. Our external id already is (32 hex); anything else is hashed to it. */
export const TRX_ID = /^[A-Za-z0-9]{32}$/;
export const trxIdOf = (externalId: string) =>
  TRX_ID.test(externalId) ? externalId : createHash("sha256").update(externalId).digest("hex").slice(0, 32);

/**
 * `customerNo` is "the merchant's customer id", 6-20 alphanumerics. We have no customer id of our
 * own, so it is derived from the trxId: `C` + its first 11 characters, upper-case (12 characters).
 */
export const customerNoOf = (trxId: string) => `C${trxId.slice(0, 11).toUpperCase()}`;
export const CUSTOMER_NO = /^[A-Za-z0-9]{6,20}$/;
/** `referenceNo` (our create's X-EXTERNAL-ID echoed): 32 alphanumerics. */
const REFERENCE_NO = /^[A-Za-z0-9]{1,64}$/;

const malformed = (operation: string, field: string) =>
  new DomainError("UNAVAILABLE", `${AYOCONNECT_SNAP} answered ${operation} without a usable ${field}`, {
    provider: AYOCONNECT_SNAP,
  });

export function bankOf(bankCode: string): AyoconnectSnapBank {
  const bank = bankByCode(bankCode);
  if (!bank) throw invalidArgument("bank_code", `${AYOCONNECT_SNAP} has no bank ${bankCode}`);
  return bank;
}

/** `virtualAccountPhone`: 10-15 digits starting `62`; our `+62…` is rewritten, anything else left out. */
function phoneOf(phone: string | undefined): string | undefined {
  const digits = phone?.replace(/^\+/, "");
  return digits !== undefined && /^62\d{8,13}$/.test(digits) ? digits : undefined;
}

/** 1-100 characters of what a bank screen can show. */
function nameOf(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9 .,'-]/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 100);
  return cleaned === "" ? "Virtual Account" : cleaned;
}

/** Refuses up front what Ayoconnect would refuse, naming our request's field. */
export function toCreateVaRequest(request: ProviderCreateRequest, now: Date): AyoconnectSnapCreateVaRequest {
  const bank = bankOf(request.bankCode);
  if (request.amount.type === "RANGE") {
    throw invalidArgument("amount.range", `${AYOCONNECT_SNAP} has closed and open amounts only`);
  }
  if (request.usage === "MULTI" && request.amount.type === "FIXED" && !bank.multiPaymentClosedAmount) {
    throw invalidArgument("amount", `${AYOCONNECT_SNAP} offers no multi-payment closed-amount VA at ${bank.bankCode}`);
  }
  const suffix = request.numberSuffix;
  if (suffix !== "" && (!/^\d+$/.test(suffix) || suffix.length > bank.customDigits.max)) {
    throw invalidArgument(
      "number_suffix",
      `${AYOCONNECT_SNAP} takes at most ${bank.customDigits.max} digits at ${bank.bankCode}`,
    );
  }
  const lifetime = request.expiresAt.getTime() - now.getTime();
  if (lifetime < 60_000 || lifetime > MAX_LIFETIME_MS) {
    throw invalidArgument("expires_at", `${AYOCONNECT_SNAP} takes an expiry from 1 minute to 90 days ahead`);
  }
  const trxId = trxIdOf(request.externalId);
  const phone = phoneOf(request.customer.phone);
  return {
    customerNo: customerNoOf(trxId),
    trxId,
    virtualAccountName: nameOf(request.customer.name),
    // Shorter suffixes are left-padded with zeros to the bank's minimum, so the number ends with them.
    ...(suffix === "" ? {} : { virtualAccountNo: suffix.padStart(bank.customDigits.min, "0") }),
    ...(phone === undefined ? {} : { virtualAccountPhone: phone }),
    ...(request.amount.type === "FIXED" ? { totalAmount: toSnapMoney(request.amount.amount) } : {}),
    expiredDate: formatSnapTimestamp(request.expiresAt),
    additionalInfo: { isSingleUse: request.usage === "SINGLE" ? "Y" : "N", bankCode: bank.ayoconnectCode },
  };
}

/** What later calls need: our trxId and customerNo, the create's referenceNo, and the bank prefix. */
export interface VaReference {
  trxId: string;
  referenceNo: string;
  customerNo: string;
  /** The prefix digits, without padding. */
  partnerServiceId: string;
}

export const encodeReference = (r: VaReference) => `${r.trxId}:${r.referenceNo}:${r.customerNo}:${r.partnerServiceId}`;

export function decodeReference(providerReference: string): VaReference {
  const [trxId = "", referenceNo = "", customerNo = "", partnerServiceId = "", extra] = providerReference.split(":");
  if (
    !TRX_ID.test(trxId) ||
    !REFERENCE_NO.test(referenceNo) ||
    !CUSTOMER_NO.test(customerNo) ||
    !/^\d{1,8}$/.test(partnerServiceId) ||
    extra !== undefined
  ) {
    throw new DomainError("INTERNAL", `provider reference is not an ${AYOCONNECT_SNAP} reference`, { provider: AYOCONNECT_SNAP });
  }
  return { trxId, referenceNo, customerNo, partnerServiceId };
}

function virtualAccountData(operation: string, body: Record<string, unknown>) {
  const data = body.virtualAccountData;
  if (!isRecord(data)) throw malformed(operation, "virtualAccountData");
  return data;
}

/** The number as the payer types it: the prefix digits + the rest, without padding spaces. */
function readNumber(operation: string, data: Record<string, unknown>) {
  const { partnerServiceId, virtualAccountNo } = data;
  if (typeof partnerServiceId !== "string" || !isPartnerServiceId(partnerServiceId))
    throw malformed(operation, "partnerServiceId");
  if (typeof virtualAccountNo !== "string" || !virtualAccountNo.startsWith(partnerServiceId)) {
    throw malformed(operation, "virtualAccountNo");
  }
  const vaNumber = payerDigits(virtualAccountNo);
  if (!/^\d+$/.test(vaNumber)) throw malformed(operation, "virtualAccountNo");
  return { prefix: payerDigits(partnerServiceId), vaNumber };
}

export function fromCreateVaResponse(
  body: Record<string, unknown>,
  request: AyoconnectSnapCreateVaRequest,
  providerAccount: string,
) {
  const data = virtualAccountData("create-va", body);
  const { prefix, vaNumber } = readNumber("create-va", data);
  checkVaNumber(vaNumber);
  if (data.trxId !== request.trxId) throw malformed("create-va", "trxId");
  const referenceNo = body.referenceNo;
  if (typeof referenceNo !== "string" || !REFERENCE_NO.test(referenceNo)) throw malformed("create-va", "referenceNo");
  const customerNo =
    typeof data.customerNo === "string" && CUSTOMER_NO.test(data.customerNo) ? data.customerNo : request.customerNo;
  const va: ProviderVirtualAccount = {
    providerAccount,
    providerReference: encodeReference({ trxId: request.trxId, referenceNo, customerNo, partnerServiceId: prefix }),
    vaNumber,
    providerVaId: request.trxId,
  };
  return va;
}

/** Inquiry VA names the VA by its padded prefix, customerNo, full padded number and trxId. */
export function toInquiryVaRequest(reference: VaReference, vaNumber: string): AyoconnectSnapInquiryVaRequest {
  const partnerServiceId = padPartnerServiceId(reference.partnerServiceId);
  return {
    partnerServiceId,
    customerNo: reference.customerNo,
    virtualAccountNo: partnerServiceId + vaNumber.slice(reference.partnerServiceId.length),
    trxId: reference.trxId,
  };
}

/** A payment as the callback and Inquiry VA both describe it: the VA's latest. */
export interface LatestPayment {
  amount: Rupiah;
  paidAt: Date;
}

/** The VA as Inquiry VA shows it: the most recent VA with that number, which may not be ours. */
export interface VaDetails {
  trxId: string;
  virtualAccountName: string;
  isSingleUse: IsSingleUse;
  status: string | undefined;
  totalAmount: Rupiah | undefined;
  expiresAt: Date | undefined;
  latestPayment: LatestPayment | undefined;
}

export function fromInquiryVaResponse(body: Record<string, unknown>): VaDetails {
  const data = virtualAccountData("inquiry-va", body);
  const info = isRecord(data.additionalInfo) ? data.additionalInfo : {};
  if (typeof data.trxId !== "string") throw malformed("inquiry-va", "trxId");
  const latestPayment = readLatestPayment(data);
  if (latestPayment === null) throw malformed("inquiry-va", "latestPaidAmount/latestPaidTime");
  return {
    trxId: data.trxId,
    virtualAccountName: typeof data.virtualAccountName === "string" ? data.virtualAccountName : "",
    isSingleUse: info.isSingleUse === "N" ? "N" : "Y",
    status: typeof data.virtualAccountStatus === "string" ? data.virtualAccountStatus : undefined,
    totalAmount: parseSnapMoney(data.totalAmount),
    expiresAt: typeof data.expiredDate === "string" ? parseSnapTimestamp(data.expiredDate) : undefined,
    latestPayment,
  };
}

/** undefined: no payment yet; null: present but unreadable. A zero amount counts as no payment. */
function readLatestPayment(data: Record<string, unknown>): LatestPayment | undefined | null {
  if (data.latestPaidAmount === undefined && data.latestPaidTime === undefined) return undefined;
  const amount = parseSnapMoney(data.latestPaidAmount);
  const paidAt = typeof data.latestPaidTime === "string" ? parseSnapTimestamp(data.latestPaidTime) : undefined;
  if (amount === 0n && (data.latestPaidTime === undefined || data.latestPaidTime === "")) return undefined;
  if (amount === undefined || paidAt === undefined || amount <= 0n) return null;
  return { amount, paidAt };
}

export function toUpdateVaRequest(
  reference: VaReference,
  vaNumber: string,
  details: VaDetails,
  changes: { amount?: Rupiah | "OPEN"; expiresAt?: Date },
): AyoconnectSnapUpdateVaRequest {
  const identity = toInquiryVaRequest(reference, vaNumber);
  const amount = changes.amount === undefined ? details.totalAmount : changes.amount === "OPEN" ? undefined : changes.amount;
  const expiresAt = changes.expiresAt ?? details.expiresAt;
  if (!expiresAt) throw malformed("inquiry-va", "expiredDate");
  return {
    ...identity,
    virtualAccountName: details.virtualAccountName || "Virtual Account",
    originalReferenceNo: reference.referenceNo,
    ...(amount === undefined || amount === 0n ? {} : { totalAmount: toSnapMoney(amount) }),
    expiredDate: formatSnapTimestamp(expiresAt),
    additionalInfo: { isSingleUse: details.isSingleUse },
  };
}

/**
 * Payment dedupe key: `<trxId>:<latestPaidTime as epoch ms>`. Neither the callback nor Inquiry VA
 * names a payment id (only `latestPaidAmount` and `latestPaidTime`), and the time is the one value
 * both give the same payment. Two payments to one VA within the same second would share a key
 * [assumption: a bank transfer takes longer than that; the simulator never does it].
 */
export const paymentReference = (trxId: string, paidAt: Date) => `${trxId}:${paidAt.getTime()}`;

/** A payment callback, read exactly; amounts in whole rupiah. */
export interface CallbackPayment {
  trxId: string | undefined;
  virtualAccountNo: string;
  partnerServiceId: string;
  customerNo: string;
  vaNumber: string;
  payment: LatestPayment;
}

export type CallbackReading = SnapCallbackReading<CallbackPayment>;

export function readPaymentCallback(rawBody: Buffer): CallbackReading {
  const body = parseJsonObject(rawBody);
  if (!body || !isRecord(body.virtualAccountData)) return UNREADABLE_BODY;
  const data = body.virtualAccountData;
  const { partnerServiceId, virtualAccountNo, customerNo, trxId } = data;
  if (partnerServiceId === undefined) return missingField("virtualAccountData.partnerServiceId");
  if (typeof partnerServiceId !== "string" || !isPartnerServiceId(partnerServiceId))
    return malformedField("virtualAccountData.partnerServiceId");
  if (virtualAccountNo === undefined) return missingField("virtualAccountData.virtualAccountNo");
  if (typeof virtualAccountNo !== "string" || !virtualAccountNo.startsWith(partnerServiceId)) {
    return malformedField("virtualAccountData.virtualAccountNo");
  }
  const vaNumber = payerDigits(virtualAccountNo);
  if (!/^\d{1,23}$/.test(vaNumber)) return malformedField("virtualAccountData.virtualAccountNo");
  if (customerNo === undefined) return missingField("virtualAccountData.customerNo");
  if (typeof customerNo !== "string" || !CUSTOMER_NO.test(customerNo)) return malformedField("virtualAccountData.customerNo");
  if (trxId !== undefined && (typeof trxId !== "string" || !TRX_ID.test(trxId)))
    return malformedField("virtualAccountData.trxId");
  if (data.latestPaidAmount === undefined) return missingField("virtualAccountData.latestPaidAmount");
  if (data.latestPaidTime === undefined) return missingField("virtualAccountData.latestPaidTime");
  const payment = readLatestPayment(data);
  if (!payment) return malformedField("virtualAccountData.latestPaidAmount");
  return { ok: true, payment: { trxId, virtualAccountNo, partnerServiceId, customerNo, vaNumber, payment } };
}

export function toPaymentNotification(
  callback: CallbackPayment,
  providerAccount: string,
  rawPayload: string,
): PaymentNotification {
  const { trxId, payment } = callback;
  return {
    providerAccount,
    // Without a trxId the key falls back to the number (the VA cannot then be confirmed either).
    providerPaymentRef: paymentReference(trxId ?? `n${callback.vaNumber}`, payment.paidAt),
    vaNumber: callback.vaNumber,
    amount: payment.amount,
    // Neither the callback nor Inquiry VA carries a fee (settlement report only).
    fee: undefined,
    paidAt: payment.paidAt,
    rawPayload,
    providerVaId: trxId,
  };
}

/** The latest payment Inquiry VA shows, as the callback would report it; none when the VA is not ours. */
export function paymentsFromInquiry(
  details: VaDetails,
  va: ProviderVaRef & { trxId: string },
  rawPayload: string,
): PaymentNotification[] {
  const latest = details.latestPayment;
  if (details.trxId !== va.trxId || latest === undefined) return [];
  return [
    {
      providerAccount: va.providerAccount,
      providerPaymentRef: paymentReference(va.trxId, latest.paidAt),
      vaNumber: va.vaNumber,
      amount: latest.amount,
      fee: undefined,
      paidAt: latest.paidAt,
      rawPayload,
      providerVaId: va.trxId,
    },
  ];
}

const cannotTell = (why: string) => cannotConfirmNow(AYOCONNECT_SNAP, why);

/**
 * What Inquiry VA says about the payment a callback claims. The same payment is the same
 * `latestPaidTime`; Ayoconnect's amount wins. A later payment of a multi-payment VA hides an
 * earlier one, and a reissued number shows another VA: no answer yet (the claim stays held). An
 * unpaid VA refutes the claim only once `lagGraceMs` has passed since the claim first arrived, since
 * Ayoconnect never retries a callback we refuse with a 4xx.
 */
export function confirmationFromInquiry(
  claim: PaymentNotification,
  callback: CallbackPayment,
  details: VaDetails,
  firstSeenAt: Date,
  now: Date,
  lagGraceMs: number,
): Confirmation {
  if (details.trxId !== callback.trxId) throw cannotTell("Inquiry VA shows a newer VA with this number");
  const latest = details.latestPayment;
  if (latest === undefined) {
    if (now.getTime() - firstSeenAt.getTime() < lagGraceMs) throw cannotTell("Inquiry VA shows no payment yet");
    return { paid: false, reason: `${AYOCONNECT_SNAP}'s Inquiry VA shows no payment on this VA` };
  }
  if (latest.paidAt.getTime() !== callback.payment.paidAt.getTime()) {
    if (latest.paidAt < callback.payment.paidAt && now.getTime() - firstSeenAt.getTime() >= lagGraceMs) {
      return { paid: false, reason: `${AYOCONNECT_SNAP}'s Inquiry VA shows no payment as late as the callback's` };
    }
    throw cannotTell("Inquiry VA shows another payment of this VA");
  }
  return confirmedAs(claim, latest);
}

/** Ayoconnect's field names in `400xx01/02` messages, as our request's fields. */
export const requestFieldOf = requestFieldsFrom({
  virtualAccountName: "customer.name",
  virtualAccountNo: "number_suffix",
  totalAmount: "amount",
  "totalAmount.value": "amount",
  expiredDate: "expires_at",
  virtualAccountPhone: "customer.phone",
});
