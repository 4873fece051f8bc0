import { createHash } from "node:crypto";
import { DomainError, invalidArgument } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { type AmountRule, checkVaNumber, MAX_VA_DIGITS } from "../../domain/virtual-account.js";
import { parseSnapMoney, type SnapMoney, toSnapMoney } from "../../protocols/snap/money.js";
import {
  malformedField,
  missingField,
  type SnapCallbackReading,
  UNREADABLE_BODY,
} from "../../protocols/snap/payment-callback.js";
import { formatSnapTimestamp, parseSnapTimestamp } from "../../protocols/snap/timestamp.js";
import {
  composeVirtualAccountNo,
  padPartnerServiceId,
  payerDigits,
  splitVirtualAccountNo,
} from "../../protocols/snap/va-number.js";
import type {
  Confirmation,
  PaymentNotification,
  ProviderCreateRequest,
  ProviderVaRef,
  VirtualAccountChanges,
} from "../provider.js";
import { confirmedAs } from "../shared/confirmation.js";
import { isRecord, parseJsonObject } from "../shared/wire-helpers.js";
import {
  type DokuCheckStatusRequest,
  type DokuCreateVaRequest,
  type DokuDeleteVaRequest,
  DokuPaymentFlag,
  type DokuSnapTrxType,
  type DokuUpdateVaRequest,
} from "./wire.js";

/** Pure mapping between our model and DOKU's SNAP wire format. */

export const DOKU_SNAP = "doku-snap";

/**
 * DGPC: DOKU numbers the VA under its BIN. MGPC: we number it under our BIN and DOKU registers it.
 * DIPC: the VA lives only with us; DOKU forwards the bank's inquiry and we answer the bill.
 */
export type DokuSnapMode = "DGPC" | "MGPC" | "DIPC";

/** Bank → DOKU SNAP channel (SDK `_commons/vaChannelEnum.js`). */
export const DOKU_SNAP_CHANNELS: Readonly<Record<string, string>> = {
  BCA: "VIRTUAL_ACCOUNT_BCA",
  MANDIRI: "VIRTUAL_ACCOUNT_BANK_MANDIRI",
  BSI: "VIRTUAL_ACCOUNT_BANK_SYARIAH_MANDIRI",
  BRI: "VIRTUAL_ACCOUNT_BRI",
  BNI: "VIRTUAL_ACCOUNT_BNI",
  DOKU: "VIRTUAL_ACCOUNT_DOKU",
  PERMATA: "VIRTUAL_ACCOUNT_PERMATA",
  CIMB: "VIRTUAL_ACCOUNT_CIMB",
  DANAMON: "VIRTUAL_ACCOUNT_DANAMON",
};

export function channelOf(bankCode: string): string {
  const channel = Object.hasOwn(DOKU_SNAP_CHANNELS, bankCode) ? DOKU_SNAP_CHANNELS[bankCode] : undefined;
  if (channel === undefined) throw invalidArgument("bank_code", `DOKU SNAP has no VA channel for ${bankCode}`);
  return channel;
}

/** trxId: 1-64 characters (SDK); ours are letters, digits, `_` and `-`, so they fit in references. */
export const TRX_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** `virtualAccountName` (SDK Joi): 1-255 of these characters. */
const VA_NAME_CHARACTERS = /[^a-zA-Z0-9.\\\-/+,=_:'@% ]+/g;
/** SDK: `virtualAccountPhone` 9-30 characters. */
const PHONE = /^.{9,30}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Digits we derive for a number nobody asked for (MGPC, DIPC). */
export const DERIVED_CUSTOMER_NO_DIGITS = 10;

/** SINGLE → not reusable, MULTI → reusable; FIXED → `C`; OPEN and RANGE → `O` (RANGE with min/max). */
export function trxTypeOf(amount: AmountRule): DokuSnapTrxType {
  return amount.type === "FIXED" ? "C" : "O";
}

/** `totalAmount`: the bill for `C`; `0.00` for `O` [assumption: DOKU documents no value for open VAs, the SDK requires the field]. */
const totalAmountOf = (amount: AmountRule): SnapMoney => toSnapMoney(amount.type === "FIXED" ? amount.amount : 0n);

export function virtualAccountName(customerName: string): string {
  const cleaned = customerName.replace(VA_NAME_CHARACTERS, " ").replace(/ {2,}/g, " ").trim().slice(0, 255).trimEnd();
  return cleaned === "" ? "Customer" : cleaned;
}

/**
 * The number we give a VA under our BIN (MGPC, DIPC): BIN + the caller's suffix, or else digits
 * derived from the external id, so a retried create asks for the same number again.
 */
export function merchantCustomerNo(bin: string, suffix: string, externalId: string): string {
  if (suffix !== "") {
    if (!/^\d{1,20}$/.test(suffix) || bin.length + suffix.length > MAX_VA_DIGITS) {
      throw invalidArgument(
        "number_suffix",
        `DOKU numbers are at most ${MAX_VA_DIGITS} digits: ${MAX_VA_DIGITS - bin.length} after our BIN`,
      );
    }
    return suffix;
  }
  const hash = createHash("sha256").update(externalId).digest();
  const value = hash.readBigUInt64BE(0) % 10n ** BigInt(DERIVED_CUSTOMER_NO_DIGITS);
  return value.toString().padStart(DERIVED_CUSTOMER_NO_DIGITS, "0");
}

export interface CreateVaOptions {
  mode: DokuSnapMode;
  /** Our (MGPC, DIPC) or DOKU's (DGPC) BIN / company code, digits. */
  bin: string;
  now: Date;
}

/** Refuses up front what DOKU would refuse, naming our request's field. */
export function toCreateVaRequest(request: ProviderCreateRequest, options: CreateVaOptions): DokuCreateVaRequest {
  const channel = channelOf(request.bankCode);
  if (!TRX_ID.test(request.externalId)) {
    throw new DomainError("INTERNAL", "external id is not a DOKU trxId (1-64 of A-Z a-z 0-9 _ -)", { provider: DOKU_SNAP });
  }
  if (request.expiresAt.getTime() <= options.now.getTime()) throw invalidArgument("expires_at", "must be in the future");
  const partnerServiceId = padPartnerServiceId(options.bin);
  let number: { customerNo: string; virtualAccountNo: string } | undefined;
  if (options.mode === "DGPC") {
    if (request.numberSuffix !== "") throw invalidArgument("number_suffix", "DOKU picks the whole number in DGPC mode");
  } else {
    const customerNo = merchantCustomerNo(options.bin, request.numberSuffix, request.externalId);
    number = { customerNo, virtualAccountNo: composeVirtualAccountNo(partnerServiceId, customerNo) };
  }
  const { email, phone } = request.customer;
  return {
    partnerServiceId,
    ...number,
    virtualAccountName: virtualAccountName(request.customer.name),
    ...(EMAIL.test(email) ? { virtualAccountEmail: email } : {}),
    ...(PHONE.test(phone) ? { virtualAccountPhone: phone } : {}),
    trxId: request.externalId,
    totalAmount: totalAmountOf(request.amount),
    additionalInfo: { channel, virtualAccountConfig: vaConfigOf(request.usage === "MULTI", request.amount) },
    virtualAccountTrxType: trxTypeOf(request.amount),
    expiredDate: formatSnapTimestamp(request.expiresAt),
  } as DokuCreateVaRequest;
}

function vaConfigOf(reusable: boolean, amount: AmountRule) {
  return {
    reusableStatus: reusable,
    ...(amount.type === "RANGE" ? { minAmount: toSnapMoney(amount.min).value, maxAmount: toSnapMoney(amount.max).value } : {}),
  };
}

/**
 * What later calls need to address the VA: our trxId, DOKU's (or our) customerNo and the VA type,
 * as `<trxId>:<customerNo>:<C|O>`. The BIN comes from the settings, the channel from the bank code.
 */
export interface DokuSnapReference {
  trxId: string;
  customerNo: string;
  trxType: DokuSnapTrxType;
}

export const encodeReference = (reference: DokuSnapReference) =>
  `${reference.trxId}:${reference.customerNo}:${reference.trxType}`;

export function decodeReference(providerReference: string): DokuSnapReference {
  const [trxId = "", customerNo = "", trxType = "", extra] = providerReference.split(":");
  if (!TRX_ID.test(trxId) || !/^\d{1,20}$/.test(customerNo) || (trxType !== "C" && trxType !== "O") || extra !== undefined) {
    throw new DomainError("INTERNAL", "provider reference is not a DOKU SNAP reference", { provider: DOKU_SNAP });
  }
  return { trxId, customerNo, trxType };
}

const malformed = (operation: string, field: string) =>
  new DomainError("UNAVAILABLE", `${DOKU_SNAP} answered ${operation} without a usable ${field}`, { provider: DOKU_SNAP });

/** The VA DOKU's create-va answer names: its number exactly as DOKU padded it. */
export interface DokuIssuedVa {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
  trxId: string;
}

export function fromCreateVaResponse(body: Record<string, unknown>): DokuIssuedVa {
  const data = body.virtualAccountData;
  if (!isRecord(data)) throw malformed("create-va", "virtualAccountData");
  const issued = identityOf(data, "create-va");
  if (typeof data.trxId !== "string" || !TRX_ID.test(data.trxId)) throw malformed("create-va", "trxId");
  return { ...issued, trxId: data.trxId };
}

function identityOf(data: Record<string, unknown>, operation: string) {
  if (typeof data.virtualAccountNo !== "string") throw malformed(operation, "virtualAccountNo");
  const parts = splitVirtualAccountNo(data.virtualAccountNo);
  if (!parts) throw malformed(operation, "virtualAccountNo");
  checkVaNumber(payerDigits(data.virtualAccountNo));
  return { ...parts, virtualAccountNo: data.virtualAccountNo };
}

/** The number as DOKU writes it: the BIN padded to 8 characters, then the customerNo. */
export const paddedNumber = (bin: string, customerNo: string) => composeVirtualAccountNo(padPartnerServiceId(bin), customerNo);

export function toUpdateVaRequest(
  va: ProviderVaRef,
  bin: string,
  reference: DokuSnapReference,
  changes: VirtualAccountChanges,
): DokuUpdateVaRequest {
  const amount = changes.amount;
  if (amount && trxTypeOf(amount) !== reference.trxType) throw invalidArgument("amount", "DOKU cannot change a VA's type");
  const range =
    amount?.type === "RANGE" ? { minAmount: toSnapMoney(amount.min).value, maxAmount: toSnapMoney(amount.max).value } : {};
  // The SDK's update DTO takes null for what stays as it is.
  const unchanged = null as unknown as string;
  return {
    partnerServiceId: padPartnerServiceId(bin),
    customerNo: reference.customerNo,
    virtualAccountNo: paddedNumber(bin, reference.customerNo),
    virtualAccountName: unchanged,
    virtualAccountEmail: unchanged,
    virtualAccountPhone: unchanged,
    trxId: reference.trxId,
    totalAmount: amount ? totalAmountOf(amount) : ({ value: unchanged, currency: unchanged } as unknown as SnapMoney),
    additionalInfo: { channel: channelOf(va.bankCode), virtualAccountConfig: { status: "ACTIVE", ...range } },
    virtualAccountTrxType: reference.trxType,
    expiredDate: changes.expiresAt ? formatSnapTimestamp(changes.expiresAt) : unchanged,
  };
}

export const toDeleteVaRequest = (va: ProviderVaRef, bin: string, reference: DokuSnapReference): DokuDeleteVaRequest => ({
  partnerServiceId: padPartnerServiceId(bin),
  customerNo: reference.customerNo,
  virtualAccountNo: paddedNumber(bin, reference.customerNo),
  trxId: reference.trxId,
  additionalInfo: { channel: channelOf(va.bankCode) },
});

/**
 * Check status for one VA (and, when asking about one payment, its `paymentRequestId`). A VA whose
 * customerNo we never learnt (a DGPC create whose answer was lost) is asked for by trxId alone.
 */
export function toCheckStatusRequest(
  bin: string,
  trxId: string,
  customerNo: string | undefined,
  paymentRequestId?: string,
): DokuCheckStatusRequest {
  const partnerServiceId = padPartnerServiceId(bin);
  return {
    partnerServiceId,
    customerNo: customerNo ?? "",
    virtualAccountNo: customerNo === undefined ? "" : composeVirtualAccountNo(partnerServiceId, customerNo),
    inquiryRequestId: null,
    paymentRequestId: paymentRequestId ?? null,
    additionalInfo: { trxId },
  };
}

/** What DOKU's check status says about a VA (or the one payment asked about). */
export interface DokuStatus {
  paid: boolean;
  issued: DokuIssuedVa;
  paymentRequestId: string | undefined;
  paidAmount: Rupiah | undefined;
  totalAmount: Rupiah | undefined;
  paidAt: Date | undefined;
  channel: string | undefined;
}

/**
 * Reads a `2002600` answer. Paid is `paymentFlagStatus` `00` (SNAP §2.6); an answer without the flag
 * is read from `paymentFlagReason.english` (`Success` / `Paid`, as third-party clients do)
 * [assumption: DOKU's SDK DTO has no flag field, its docs show no answer body].
 */
export function fromCheckStatusResponse(body: Record<string, unknown>): DokuStatus {
  const data = body.virtualAccountData;
  if (!isRecord(data)) throw malformed("check status", "virtualAccountData");
  const identity = identityOf(data, "check status");
  const trxId = typeof data.trxId === "string" ? data.trxId : undefined;
  if (trxId === undefined || !TRX_ID.test(trxId)) throw malformed("check status", "trxId");
  const reason = isRecord(data.paymentFlagReason) ? data.paymentFlagReason.english : undefined;
  const flag = data.paymentFlagStatus;
  const paid = flag === undefined ? typeof reason === "string" && /^(success|paid)/i.test(reason) : flag === DokuPaymentFlag.paid;
  const paymentRequestId =
    typeof data.paymentRequestId === "string" && data.paymentRequestId !== "" ? data.paymentRequestId : undefined;
  const info = isRecord(data.additionalInfo) ? data.additionalInfo : {};
  const transactionDate = typeof data.transactionDate === "string" ? parseSnapTimestamp(data.transactionDate) : undefined;
  return {
    paid,
    issued: { ...identity, trxId },
    paymentRequestId,
    paidAmount: parseSnapMoney(data.paidAmount),
    totalAmount: parseSnapMoney(data.totalAmount),
    paidAt: transactionDate,
    channel: typeof info.channel === "string" ? info.channel : undefined,
  };
}

/** Payment dedupe key: `<trxId>#<paymentRequestId>`: the notification and check status both name both. */
export const paymentReference = (trxId: string, paymentRequestId: string) => `${trxId}#${paymentRequestId}`;

/** A payment notification, read exactly; amounts in whole rupiah. */
export interface DokuNotificationPayment {
  trxId: string;
  paymentRequestId: string;
  virtualAccountNo: string;
  amount: Rupiah;
  paidAt: Date | undefined;
}

export type NotificationReading = SnapCallbackReading<DokuNotificationPayment>;

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function readPaymentNotification(rawBody: Buffer): NotificationReading {
  const body = parseJsonObject(rawBody);
  if (!body) return UNREADABLE_BODY;
  const { virtualAccountNo, trxId, paymentRequestId, paidAmount } = body;
  if (virtualAccountNo === undefined) return missingField("virtualAccountNo");
  if (typeof virtualAccountNo !== "string" || !/^\d{1,28}$/.test(payerDigits(virtualAccountNo)))
    return malformedField("virtualAccountNo");
  if (trxId === undefined) return missingField("trxId");
  if (typeof trxId !== "string" || !TRX_ID.test(trxId)) return malformedField("trxId");
  if (paymentRequestId === undefined) return missingField("paymentRequestId");
  if (typeof paymentRequestId !== "string" || !REQUEST_ID.test(paymentRequestId)) return malformedField("paymentRequestId");
  if (paidAmount === undefined) return missingField("paidAmount");
  const amount = parseSnapMoney(paidAmount);
  if (amount === undefined || amount <= 0n) return malformedField("paidAmount");
  const info = isRecord(body.additionalInfo) ? body.additionalInfo : {};
  const paidAt = typeof info.trxDateTime === "string" ? parseSnapTimestamp(info.trxDateTime) : undefined;
  return { ok: true, payment: { trxId, paymentRequestId, virtualAccountNo, amount, paidAt } };
}

export function toPaymentNotification(
  payment: DokuNotificationPayment,
  providerAccount: string,
  rawPayload: string,
  receivedAt: Date,
): PaymentNotification {
  return {
    providerAccount,
    providerPaymentRef: paymentReference(payment.trxId, payment.paymentRequestId),
    vaNumber: payerDigits(payment.virtualAccountNo),
    amount: payment.amount,
    fee: undefined,
    paidAt: payment.paidAt ?? receivedAt,
    rawPayload,
    providerVaId: payment.trxId,
  };
}

/** The payment a check-status answer shows, as the notification would report it (the VA's latest, if paid). */
export function paymentsFromStatus(status: DokuStatus, providerAccount: string, rawPayload: string, polledAt: Date) {
  const { paymentRequestId, paidAmount } = status;
  if (!status.paid || paymentRequestId === undefined || paidAmount === undefined || paidAmount <= 0n) return [];
  return [
    {
      providerAccount,
      providerPaymentRef: paymentReference(status.issued.trxId, paymentRequestId),
      vaNumber: payerDigits(status.issued.virtualAccountNo),
      amount: paidAmount,
      fee: undefined,
      paidAt: status.paidAt ?? polledAt,
      rawPayload,
      providerVaId: status.issued.trxId,
    } satisfies PaymentNotification,
  ];
}

/**
 * What check status, asked about the claimed `paymentRequestId`, says of a notification: paid with
 * that id confirms it (DOKU's amount wins); not paid denies it.
 */
export function confirmationFromStatus(
  claim: PaymentNotification,
  payment: DokuNotificationPayment,
  status: DokuStatus,
): Confirmation {
  if (!status.paid) return { paid: false, reason: `${DOKU_SNAP}'s check status says ${payment.paymentRequestId} is not paid` };
  if (status.issued.trxId !== payment.trxId || payerDigits(status.issued.virtualAccountNo) !== claim.vaNumber) {
    return { paid: false, reason: `${DOKU_SNAP}'s check status names another VA` };
  }
  if (status.paymentRequestId !== undefined && status.paymentRequestId !== payment.paymentRequestId) {
    throw new DomainError("UNAVAILABLE", `${DOKU_SNAP}'s check status shows another payment of this VA`, { provider: DOKU_SNAP });
  }
  return confirmedAs(claim, { amount: status.paidAmount ?? claim.amount, paidAt: status.paidAt });
}
