import { DomainError, invalidArgument } from "../../domain/errors.js";
import { parseRupiah, type Rupiah } from "../../domain/money.js";
import { type AmountRule, checkVaNumber, type VaUsage } from "../../domain/virtual-account.js";
import { parseSnapMoney, toSnapMoney } from "../../protocols/snap/money.js";
import {
  malformedField,
  missingField,
  type SnapCallbackReading,
  UNREADABLE_BODY,
} from "../../protocols/snap/payment-callback.js";
import { requestFieldsFrom } from "../../protocols/snap/provider-answer.js";
import { formatSnapTimestamp, parseSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { payerDigits } from "../../protocols/snap/va-number.js";
import type { Confirmation, PaymentNotification, ProviderCreateRequest, ProviderVirtualAccount } from "../provider.js";
import { cannotConfirmNow, confirmedAs, unpaidByStatus } from "../shared/confirmation.js";
import { isRecord, parseJsonObject } from "../shared/wire-helpers.js";
import {
  CUSTOMER_NO,
  channelSupports,
  latestExpiry,
  MAX_WINPAY_AMOUNT,
  MIN_EXPIRY_MS,
  TRX_ID,
  VA_NAME_MAX,
  VA_NAME_MIN,
  WINPAY_CHANNEL_TYPES,
} from "./rules.js";
import {
  type WinpayCreateVaRequest,
  type WinpayDeleteVaRequest,
  type WinpayInquiryVaRequest,
  WinpayPaymentFlag,
  type WinpayPaymentStatusRequest,
  type WinpayVaType,
} from "./wire.js";

/** Pure mapping between our model and Winpay's wire format. */

export const WINPAY = "winpay";

const TYPE_NAMES: Record<WinpayVaType, string> = { c: "one-off", o: "open recurring", r: "closed recurring" };

/** SINGLE + FIXED → `c`, MULTI + OPEN → `o`, MULTI + FIXED → `r` (seed 003); nothing else exists. */
export function winpayVaType(usage: VaUsage, amount: AmountRule): WinpayVaType {
  if (amount.type === "RANGE") throw invalidArgument("amount.range", "Winpay has no VA type with an amount range");
  if (amount.type === "FIXED") return usage === "SINGLE" ? "c" : "r";
  if (usage === "MULTI") return "o";
  throw invalidArgument("amount.open", "Winpay offers an open amount only on multi-use VAs");
}

/** Refuses up front what Winpay would refuse, naming our request's field. */
export function toCreateVaRequest(request: ProviderCreateRequest, now: Date): WinpayCreateVaRequest {
  const type = winpayVaType(request.usage, request.amount);
  if (!Object.hasOwn(WINPAY_CHANNEL_TYPES, request.bankCode)) {
    throw invalidArgument("bank_code", `Winpay has no channel ${request.bankCode}`);
  }
  if (!channelSupports(request.bankCode, type)) {
    throw invalidArgument("bank_code", `Winpay's ${request.bankCode} channel offers no ${TYPE_NAMES[type]} VAs`);
  }
  if (request.numberSuffix === "" && type !== "c") {
    throw invalidArgument("number_suffix", "Winpay needs 3-14 digits for a multi-use VA");
  }
  if (request.numberSuffix !== "" && !CUSTOMER_NO.test(request.numberSuffix)) {
    throw invalidArgument("number_suffix", "Winpay takes 3-14 digits");
  }
  if (!TRX_ID.test(request.externalId)) {
    throw new DomainError("INTERNAL", "external id is not a Winpay trxId (5-50 of A-Z a-z 0-9 _ -)", {
      provider: WINPAY,
    });
  }
  if (request.amount.type === "FIXED" && request.amount.amount > MAX_WINPAY_AMOUNT) {
    throw invalidArgument("amount.fixed.amount", `Winpay accepts at most ${MAX_WINPAY_AMOUNT}`);
  }
  if (request.expiresAt.getTime() - now.getTime() <= MIN_EXPIRY_MS) {
    throw invalidArgument("expires_at", "Winpay needs more than 1 minute");
  }
  if (request.expiresAt > latestExpiry(now)) throw invalidArgument("expires_at", "Winpay accepts at most 3 months");
  return {
    ...(request.numberSuffix === "" ? {} : { customerNo: request.numberSuffix }),
    virtualAccountName: winpayVirtualAccountName(request.customer.name),
    trxId: request.externalId,
    ...(request.amount.type === "FIXED" ? { totalAmount: toSnapMoney(request.amount.amount) } : {}),
    virtualAccountTrxType: type,
    expiredDate: formatSnapTimestamp(request.expiresAt),
    additionalInfo: { channel: request.bankCode },
  };
}

/**
 * Winpay takes 5-24 letters, digits, `_`, `-` and spaces; other characters become spaces and a
 * name too short is prefixed (`Li` → `Customer Li`), since refusing a payer's real name helps no one.
 */
export function winpayVirtualAccountName(customerName: string): string {
  const cleaned = customerName
    .replace(/[^A-Za-z0-9_\- ]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim()
    .slice(0, VA_NAME_MAX)
    .trimEnd();
  return cleaned.length >= VA_NAME_MIN ? cleaned : `Customer ${cleaned}`.trimEnd();
}

/** Winpay's field names in `400xx01/02` messages, as our request's fields. */
export const requestFieldOf = requestFieldsFrom({
  customerNo: "number_suffix",
  virtualAccountName: "customer.name",
  totalAmount: "amount.fixed.amount",
  "totalAmount.value": "amount.fixed.amount",
  virtualAccountTrxType: "usage",
  expiredDate: "expires_at",
  channel: "bank_code",
  "additionalInfo.channel": "bank_code",
});

/**
 * What later calls need to address the VA: Winpay's `contractId` and our `trxId`. Both go into
 * `providerReference` as `<contractId>:<trxId>`, because `ProviderVaRef` has no other place for
 * the trxId that inquiry-va, status and delete-va require.
 */
export interface WinpayVaReference {
  contractId: string;
  trxId: string;
}

const REFERENCE_PART = /^[A-Za-z0-9_-]+$/;

export function encodeReference(reference: WinpayVaReference): string {
  return `${reference.contractId}:${reference.trxId}`;
}

export function decodeReference(providerReference: string): WinpayVaReference {
  const [contractId = "", trxId = "", extra] = providerReference.split(":");
  if (!REFERENCE_PART.test(contractId) || !TRX_ID.test(trxId) || extra !== undefined) {
    throw new DomainError("INTERNAL", "provider reference is not a Winpay reference", { provider: WINPAY });
  }
  return { contractId, trxId };
}

const malformed = (operation: string, field: string) =>
  new DomainError("UNAVAILABLE", `${WINPAY} answered ${operation} without a usable ${field}`, { provider: WINPAY });

function virtualAccountData(operation: string, body: Record<string, unknown>) {
  const data = body.virtualAccountData;
  if (!isRecord(data)) throw malformed(operation, "virtualAccountData");
  const info = isRecord(data.additionalInfo) ? data.additionalInfo : {};
  return { data, info };
}

export function fromCreateVaResponse(body: Record<string, unknown>, providerAccount: string): ProviderVirtualAccount {
  const { data, info } = virtualAccountData("create-va", body);
  if (typeof data.virtualAccountNo !== "string") throw malformed("create-va", "virtualAccountNo");
  if (typeof data.trxId !== "string" || !TRX_ID.test(data.trxId)) throw malformed("create-va", "trxId");
  if (typeof info.contractId !== "string" || !REFERENCE_PART.test(info.contractId)) {
    throw malformed("create-va", "additionalInfo.contractId");
  }
  const vaNumber = payerDigits(data.virtualAccountNo);
  checkVaNumber(vaNumber);
  return {
    providerAccount,
    providerReference: encodeReference({ contractId: info.contractId, trxId: data.trxId }),
    vaNumber,
    providerVaId: info.contractId,
  };
}

export const toInquiryVaRequest = (reference: WinpayVaReference): WinpayInquiryVaRequest => ({
  trxId: reference.trxId,
  additionalInfo: { contractId: reference.contractId },
});

/** The VA as Winpay keeps it; `virtualAccountNo` exactly as Winpay wrote it, padding included. */
export interface WinpayVaDetails {
  virtualAccountNo: string;
  virtualAccountName: string;
  channel: string;
  totalAmount: Rupiah | undefined;
  expiresAt: Date | undefined;
}

export function fromInquiryVaResponse(body: Record<string, unknown>): WinpayVaDetails {
  const { data, info } = virtualAccountData("inquiry-va", body);
  if (typeof data.virtualAccountNo !== "string") throw malformed("inquiry-va", "virtualAccountNo");
  if (typeof info.channel !== "string") throw malformed("inquiry-va", "additionalInfo.channel");
  return {
    virtualAccountNo: data.virtualAccountNo,
    virtualAccountName: typeof data.virtualAccountName === "string" ? data.virtualAccountName : "",
    channel: info.channel,
    totalAmount: parseSnapMoney(data.totalAmount),
    expiresAt: typeof data.expiredDate === "string" ? parseSnapTimestamp(data.expiredDate) : undefined,
  };
}

export const toPaymentStatusRequest = (reference: WinpayVaReference, details: WinpayVaDetails): WinpayPaymentStatusRequest => ({
  virtualAccountNo: details.virtualAccountNo,
  trxId: reference.trxId,
  additionalInfo: { contractId: reference.contractId, channel: details.channel, trxId: reference.trxId },
});

export interface WinpayPaymentStatus {
  /** `00` paid, `01` unpaid, `02` "check" (Winpay is not sure yet). */
  state: "PAID" | "UNPAID" | "CHECK";
  paidAmount: Rupiah | undefined;
  paidAt: Date | undefined;
  /** The payment's `referenceNo`, as the callback names it too; the latest payment on a recurring VA. */
  referenceNo: string | undefined;
}

const PAYMENT_STATES: Readonly<Record<string, WinpayPaymentStatus["state"]>> = {
  [WinpayPaymentFlag.paid]: "PAID",
  [WinpayPaymentFlag.unpaid]: "UNPAID",
  [WinpayPaymentFlag.check]: "CHECK",
};

export function fromPaymentStatusResponse(body: Record<string, unknown>): WinpayPaymentStatus {
  const { data } = virtualAccountData("status", body);
  const flag = data.paymentFlagStatus;
  const state = typeof flag === "string" && Object.hasOwn(PAYMENT_STATES, flag) ? PAYMENT_STATES[flag] : undefined;
  if (!state) throw malformed("status", "paymentFlagStatus");
  return {
    state,
    paidAmount: state === "PAID" ? parseSnapMoney(data.totalAmount) : undefined,
    paidAt: typeof data.transactionDate === "string" ? parseSnapTimestamp(data.transactionDate) : undefined,
    referenceNo: referenceNoOf(data.referenceNo),
  };
}

export const toDeleteVaRequest = (reference: WinpayVaReference, details: WinpayVaDetails): WinpayDeleteVaRequest => ({
  virtualAccountNo: details.virtualAccountNo,
  trxId: reference.trxId,
  additionalInfo: { contractId: reference.contractId, channel: details.channel },
});

/** A payment callback, read exactly; amounts in whole rupiah. */
export interface WinpayCallbackPayment {
  contractId: string;
  /** Our trxId; with the contractId it is what inquiry-va and status need to confirm the payment. */
  trxId: string | undefined;
  paymentRequestId: string;
  /** Seed 003's sample carries it (a number); the "Signature Callback Validation" sample does not. */
  referenceNo: string | undefined;
  virtualAccountNo: string;
  amount: Rupiah;
  fee: Rupiah | undefined;
  paidAt: Date | undefined;
}

export type CallbackReading = SnapCallbackReading<WinpayCallbackPayment>;

/**
 * Reads a payment callback leniently where Winpay's own sample is loose (`"10000"` amounts, a
 * numeric `referenceNo`) and strictly everywhere else (no fractions of a rupiah, no floats).
 * The fee is `feeAmount`, or `paidAmount − nettAmount` when only the net is given.
 */
export function readPaymentCallback(rawBody: Buffer): CallbackReading {
  const body = parseJsonObject(rawBody);
  if (!body) return UNREADABLE_BODY;
  const info = isRecord(body.additionalInfo) ? body.additionalInfo : {};

  const { virtualAccountNo, paymentRequestId, paidAmount, trxDateTime, trxId } = body;
  if (virtualAccountNo === undefined) return missingField("virtualAccountNo");
  if (typeof virtualAccountNo !== "string" || !/^\d{1,28}$/.test(payerDigits(virtualAccountNo))) {
    return malformedField("virtualAccountNo");
  }
  if (paymentRequestId === undefined) return missingField("paymentRequestId");
  const paymentId = typeof paymentRequestId === "number" ? String(paymentRequestId) : paymentRequestId;
  if (typeof paymentId !== "string" || !REFERENCE_PART.test(paymentId) || paymentId.length > 128) {
    return malformedField("paymentRequestId");
  }
  if (paidAmount === undefined) return missingField("paidAmount");
  const amount = parseSnapMoney(paidAmount);
  if (amount === undefined || amount <= 0n) return malformedField("paidAmount");
  if (info.contractId === undefined) return missingField("additionalInfo.contractId");
  if (typeof info.contractId !== "string" || !REFERENCE_PART.test(info.contractId)) {
    return malformedField("additionalInfo.contractId");
  }
  const paidAt = typeof trxDateTime === "string" ? parseSnapTimestamp(trxDateTime) : undefined;
  if (trxDateTime !== undefined && paidAt === undefined) return malformedField("trxDateTime");
  const fee = optionalRupiah(info.feeAmount);
  if (fee === null || (fee !== undefined && fee > amount)) return malformedField("additionalInfo.feeAmount");
  const nett = optionalRupiah(info.nettAmount);
  if (nett === null || (nett !== undefined && nett > amount)) return malformedField("additionalInfo.nettAmount");
  if (trxId !== undefined && (typeof trxId !== "string" || !TRX_ID.test(trxId))) return malformedField("trxId");
  const referenceNo = referenceNoOf(body.referenceNo);
  if (body.referenceNo !== undefined && referenceNo === undefined) return malformedField("referenceNo");
  return {
    ok: true,
    payment: {
      contractId: info.contractId,
      trxId,
      paymentRequestId: paymentId,
      referenceNo,
      virtualAccountNo,
      amount,
      fee: fee ?? (nett === undefined ? undefined : amount - nett),
      paidAt,
    },
  };
}

/** undefined when absent, null when present but not a whole-rupiah decimal string. */
function optionalRupiah(value: unknown): Rupiah | undefined | null {
  if (value === undefined) return undefined;
  return (typeof value === "string" ? parseRupiah(value) : undefined) ?? null;
}

/** `referenceNo` as text: Winpay's callback sample sends a number, its status sample a string. */
function referenceNoOf(value: unknown): string | undefined {
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  return typeof text === "string" && REFERENCE_PART.test(text) && text.length <= 64 ? text : undefined;
}

/**
 * Payment dedupe key: `<contractId>:<referenceNo>`. The status API names a payment only by its
 * `referenceNo` (never by the callback's `paymentRequestId`), so this is the one key a callback, a
 * confirmation and the reconciler can all give the same payment.
 */
export const paymentReference = (contractId: string, referenceNo: string) => `${contractId}:${referenceNo}`;

/**
 * A callback's key: by `referenceNo`; a callback without one (the older published sample) falls
 * back to `<contractId>:req-<paymentRequestId>`, which the status API cannot reproduce.
 */
export const callbackPaymentReference = (payment: WinpayCallbackPayment) =>
  payment.referenceNo === undefined
    ? `${payment.contractId}:req-${payment.paymentRequestId}`
    : paymentReference(payment.contractId, payment.referenceNo);

/** The simulator's answer to simulate-payment, as the reference its callback will carry. */
export function fromSimulatePaymentResponse(body: Record<string, unknown>, contractId: string): string {
  const referenceNo = referenceNoOf(body.referenceNo);
  if (referenceNo === undefined) throw malformed("simulate-payment", "referenceNo");
  return paymentReference(contractId, referenceNo);
}

/**
 * The payment a status answer shows, as the callback would report it. One at most: the answer
 * describes the VA's latest payment, and a paid answer without `referenceNo` cannot be named.
 */
export function paymentsFromStatus(
  status: WinpayPaymentStatus,
  va: { providerAccount: string; contractId: string; vaNumber: string },
  rawPayload: string,
  polledAt: Date,
): PaymentNotification[] {
  const { referenceNo, paidAmount } = status;
  if (status.state !== "PAID" || referenceNo === undefined || paidAmount === undefined) return [];
  return [
    {
      providerAccount: va.providerAccount,
      providerPaymentRef: paymentReference(va.contractId, referenceNo),
      vaNumber: va.vaNumber,
      amount: paidAmount,
      fee: undefined,
      paidAt: status.paidAt ?? polledAt,
      rawPayload,
      providerVaId: va.contractId,
    },
  ];
}

/**
 * What the status answer says about the payment a callback claims. The same transfer is the same
 * `referenceNo`; a callback without one is matched by amount (a one-off VA is paid once). Winpay's
 * amount wins. "Check", or a later payment on a recurring VA hiding this one, is no answer yet.
 */
export function confirmationFromStatus(
  claim: PaymentNotification,
  callback: WinpayCallbackPayment,
  status: WinpayPaymentStatus,
): Confirmation {
  if (status.state === "UNPAID") return unpaidByStatus(WINPAY);
  if (status.state === "CHECK") throw cannotConfirmNow(WINPAY, "its status API answers 02 (check)");
  if (status.paidAmount === undefined) throw malformed("status", "totalAmount");
  const same =
    callback.referenceNo === undefined ? status.paidAmount === claim.amount : status.referenceNo === callback.referenceNo;
  if (!same) throw cannotConfirmNow(WINPAY, "its status API shows another payment of this VA");
  return confirmedAs(claim, { amount: status.paidAmount, paidAt: status.paidAt });
}

export function toPaymentNotification(
  payment: WinpayCallbackPayment,
  providerAccount: string,
  rawPayload: string,
  receivedAt: Date,
): PaymentNotification {
  return {
    providerAccount,
    providerPaymentRef: callbackPaymentReference(payment),
    vaNumber: payerDigits(payment.virtualAccountNo),
    amount: payment.amount,
    fee: payment.fee,
    paidAt: payment.paidAt ?? receivedAt,
    rawPayload,
    providerVaId: payment.contractId,
  };
}
