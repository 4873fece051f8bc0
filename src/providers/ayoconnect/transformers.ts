import { createHash } from "node:crypto";
import { DomainError, invalidArgument } from "../../domain/errors.js";
import { formatRupiah2, type Rupiah } from "../../domain/money.js";
import type { AmountRule, VaStatus, VaUsage } from "../../domain/virtual-account.js";
import type { ProviderCreateRequest } from "../provider.js";
import { minutesUntil, wireReader } from "../shared/wire-helpers.js";
import { AYOCONNECT_BANKS, type AyoconnectBank } from "./capabilities.js";

/**
 * Our model ⇄ Ayoconnect's legacy v1 wire format (reference §7.2). Pure apart from hashing.
 * Money travels as `{value:"25000.00", currency:"IDR"}` and is read exactly with parseRupiah.
 */

export const AYOCONNECT = "ayoconnect";

const { unexpected, record, text, identifier, timestamp, decimalRupiah } = wireReader(AYOCONNECT);

export type AyoconnectVaStatus = "UNUSED" | "INQUIRED" | "PAID" | "INACTIVE" | "EXPIRED";

/** Ayoconnect's VA states (seed 002) in our terms. */
export const AYOCONNECT_STATUS_TO_OURS: Readonly<Record<AyoconnectVaStatus, VaStatus>> = {
  UNUSED: "ACTIVE",
  INQUIRED: "INQUIRED",
  PAID: "PAID",
  INACTIVE: "COMPLETED",
  EXPIRED: "EXPIRED",
};

/** States in which the VA has taken a payment (multi-payment stays PAID, single-payment goes INACTIVE). */
export const PAID_STATES: ReadonlySet<AyoconnectVaStatus> = new Set(["PAID", "INACTIVE"]);

export interface AyoconnectMoney {
  value: string;
  currency: "IDR";
}

export interface AyoconnectCreateBody {
  virtualAccountName: string;
  virtualAccountPhone: string;
  virtualAccountNumber: string | undefined;
  transactionId: string;
  bankCode: string;
  expiresIn: number;
  totalAmount: AyoconnectMoney;
  billDetails:
    | Array<{ billName: string; billAmount: AyoconnectMoney; billDescription: { english: string; indonesia: string } }>
    | undefined;
  virtualAccountConfig: { virtualAccountType: "dynamic" | "static"; amountType: "closed" | "open" };
}

export interface AyoconnectUpdateBody {
  bankCode: string;
  customerId: string;
  virtualAccountId: string;
  transactionId: string;
  expiresIn?: number;
  totalAmount?: AyoconnectMoney;
}

/** What an update may change. */
export interface VirtualAccountChanges {
  amount?: Extract<AmountRule, { type: "FIXED" }>;
  expiresAt?: Date;
}

/**
 * What every later call about one VA needs. GET and PATCH take `virtualAccountId`, `customerId` and
 * the 3-digit bank code, and must repeat the flow's `A-Correlation-ID`.
 */
export interface AyoconnectVaKey {
  virtualAccountId: string;
  customerId: string;
  /** Our flow id: the bank's 3-digit code + 29 hex digits, so a callback names its bank too. */
  correlationId: string;
}

export interface AyoconnectVaState {
  providerReference: string;
  vaNumber: string;
  providerStatus: AyoconnectVaStatus;
  status: VaStatus;
  totalAmount: Rupiah;
  /**
   * `billAmount`, which the status answer carries only once the VA is paid (Ayoconnect's status sample
   * shows it on a PAID VA, its create and update samples never do). Its callback sample has it equal to
   * the amount paid (12500.00 with `paymentDetails.amount` 12500.00 against `totalAmount` 25000.00),
   * so we read it as the amount paid [uncertain: its meaning is not documented].
   */
  billAmount: Rupiah | undefined;
  adminFee: Rupiah | undefined;
  expiresAt: Date;
}

export interface AyoconnectCallback {
  key: AyoconnectVaKey;
  vaNumber: string;
  trxRefID: string;
  /** `paymentDetails.amount`: what was paid, which may differ from the bill (`totalAmount`). */
  amount: Rupiah;
  adminFee: Rupiah | undefined;
}

export function bankByOurCode(bankCode: string): AyoconnectBank {
  const bank = AYOCONNECT_BANKS.find((b) => b.bankCode === bankCode);
  if (!bank) throw invalidArgument("bank_code", `${AYOCONNECT} does not issue VAs at ${bankCode}`);
  return bank;
}

const sha256hex = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Create's `transactionId` (exactly 32) is derived from our externalId, so a retried create is refused
 * as a duplicate instead of issuing a second VA; the flow's correlation id is derived the same way.
 */
export function flowIds(
  externalId: string,
  bank: AyoconnectBank,
  usage: VaUsage,
): { transactionId: string; correlationId: string } {
  return {
    transactionId: sha256hex(`transaction:${externalId}`).slice(0, 32),
    // Bank code, then `p` (one payment) or `m` (many): Ayoconnect echoes it in every callback.
    correlationId: bank.ayoconnectCode + (usage === "SINGLE" ? "p" : "m") + sha256hex(`correlation:${externalId}`).slice(0, 28),
  };
}

const FLOW = /^([0-9]{3})([pm])[0-9a-f]{28}$/;

export function bankCodeOfFlow(correlationId: string): string | undefined {
  return FLOW.exec(correlationId)?.[1];
}

/** Whether one of our flows made a single-payment VA; undefined for a flow we did not start. */
export function isSinglePaymentFlow(correlationId: string): boolean | undefined {
  const usage = FLOW.exec(correlationId)?.[2];
  return usage === undefined ? undefined : usage === "p";
}

/**
 * The dedupe key of a callback's payment. A single-payment VA has exactly one payment, so its key is
 * the VA's: unsigned callbacks naming other trxRefIDs for it can never add a second.
 */
export function callbackPaymentRef(key: { virtualAccountId: string; correlationId: string }, trxRefID: string): string {
  return isSinglePaymentFlow(key.correlationId)
    ? singlePaymentRef(key.virtualAccountId)
    : paymentRef(key.virtualAccountId, trxRefID);
}

/** The one payment of a single-payment VA, as both its callback and the status query name it. */
export const singlePaymentRef = (virtualAccountId: string) => `${virtualAccountId}:single`;

/** `providerReference` carries the whole key, joined with `:` (none of its parts contains one). */
export function encodeVaKey(key: AyoconnectVaKey): string {
  return `${key.virtualAccountId}:${key.customerId}:${key.correlationId}`;
}

export function decodeVaKey(providerReference: string): AyoconnectVaKey {
  const [virtualAccountId, customerId, correlationId, ...rest] = providerReference.split(":");
  if (!virtualAccountId || !customerId || !correlationId || rest.length > 0 || !bankCodeOfFlow(correlationId)) {
    throw new DomainError("INTERNAL", `not an ${AYOCONNECT} VA reference: ${providerReference}`, {
      provider: AYOCONNECT,
    });
  }
  return { virtualAccountId, customerId, correlationId };
}

/** The dedupe key of §9: `virtualAccountId:trxRefID`. */
export const paymentRef = (virtualAccountId: string, trxRefID: string) => `${virtualAccountId}:${trxRefID}`;

/** Ayoconnect wants `62` + 9–13 digits; we take `+62…`, `62…` or a domestic `0…`. */
function toAyoconnectPhone(phone: string): string {
  const digits = phone.replace(/^\+/, "");
  return digits.startsWith("0") ? `62${digits.slice(1)}` : digits;
}

const money = (amount: Rupiah): AyoconnectMoney => ({ value: formatRupiah2(amount), currency: "IDR" });

export function toCreateBody(
  request: ProviderCreateRequest,
  now: Date,
  bank: AyoconnectBank,
  transactionId: string,
): AyoconnectCreateBody {
  const { amount } = request;
  if (amount.type === "RANGE") throw invalidArgument("amount.range", `${AYOCONNECT} takes a fixed or an open amount only`);
  const totalAmount = money(amount.type === "FIXED" ? amount.amount : 0n);
  return {
    virtualAccountName: request.customer.name,
    virtualAccountPhone: toAyoconnectPhone(request.customer.phone),
    virtualAccountNumber: request.numberSuffix ? request.numberSuffix.padStart(bank.customDigits.min, "0") : undefined,
    transactionId,
    bankCode: bank.ayoconnectCode,
    expiresIn: minutesUntil(request.expiresAt, now),
    totalAmount,
    billDetails: request.description
      ? [
          {
            billName: request.customer.name,
            billAmount: totalAmount,
            billDescription: { english: request.description, indonesia: request.description },
          },
        ]
      : undefined,
    virtualAccountConfig: {
      virtualAccountType: request.usage === "MULTI" ? "static" : "dynamic",
      amountType: amount.type === "FIXED" ? "closed" : "open",
    },
  };
}

export function toUpdateBody(
  key: AyoconnectVaKey,
  transactionId: string,
  changes: VirtualAccountChanges,
  now: Date,
): AyoconnectUpdateBody {
  return {
    ...keyFields(key),
    transactionId,
    expiresIn: changes.expiresAt && minutesUntil(changes.expiresAt, now),
    totalAmount: changes.amount && money(changes.amount.amount),
  };
}

/** Cancel = expire now (`expiresIn: 0`): the legacy API has no delete [uncertain, §9]. */
export function toCancelBody(key: AyoconnectVaKey, transactionId: string): AyoconnectUpdateBody {
  return { ...keyFields(key), transactionId, expiresIn: 0 };
}

/** `bankCode` is the one in the flow id, except for a flow we did not start (a callback's). */
export function statusQuery(key: AyoconnectVaKey, transactionId: string, bankCode: string): URLSearchParams {
  const { customerId, virtualAccountId } = key;
  return new URLSearchParams({ virtualAccountId, transactionId, bankCode, customerId });
}

function keyFields(key: AyoconnectVaKey) {
  return {
    bankCode: key.correlationId.slice(0, 3),
    customerId: key.customerId,
    virtualAccountId: key.virtualAccountId,
  };
}

/** `virtualAccountData` of a create (201) or status (200) answer. */
export function readVirtualAccountData(json: unknown): {
  virtualAccountId: string;
  customerId: string;
  state: Omit<AyoconnectVaState, "providerReference">;
} {
  const data = record(record(json, "body").virtualAccountData, "virtualAccountData");
  const providerStatus = vaStatus(data.virtualAccountStatus, "virtualAccountData.virtualAccountStatus");
  return {
    virtualAccountId: text(data.virtualAccountId, "virtualAccountData.virtualAccountId"),
    customerId: text(data.customerId, "virtualAccountData.customerId"),
    state: {
      vaNumber: text(data.virtualAccountNumber, "virtualAccountData.virtualAccountNumber"),
      providerStatus,
      status: AYOCONNECT_STATUS_TO_OURS[providerStatus],
      totalAmount: moneyValue(data.totalAmount, "virtualAccountData.totalAmount"),
      billAmount: optionalMoney(data.billAmount, "virtualAccountData.billAmount"),
      adminFee: optionalMoney(data.adminFee, "virtualAccountData.adminFee"),
      expiresAt: timestamp(data.expiredAt, "virtualAccountData.expiredAt"),
    },
  };
}

/**
 * The legacy payment callback: unsigned, so only a claim until the status query confirms it. Only
 * what names the VA and the payment is required; the rest of Ayoconnect's sample body may vary.
 */
export function readCallback(json: unknown): AyoconnectCallback {
  const data = record(record(json, "body").virtualAccountData, "virtualAccountData");
  const payment = record(data.paymentDetails, "virtualAccountData.paymentDetails");
  return {
    key: {
      virtualAccountId: identifier(data.virtualAccountId, "virtualAccountData.virtualAccountId"),
      customerId: identifier(data.customerId, "virtualAccountData.customerId"),
      correlationId: identifier(data.correlationId, "virtualAccountData.correlationId"),
    },
    vaNumber: identifier(data.virtualAccountNumber, "virtualAccountData.virtualAccountNumber"),
    trxRefID: identifier(payment.trxRefID, "paymentDetails.trxRefID"),
    amount: decimalRupiah(payment.amount, "paymentDetails.amount"),
    // The fee is only informative: a malformed one must not cost us the payment.
    adminFee: (() => {
      try {
        return optionalMoney(data.adminFee, "virtualAccountData.adminFee");
      } catch {
        return undefined;
      }
    })(),
  };
}

/** `paymentDetails.trxRefID` of our simulator's pay route. */
export function readSimulatedPayment(json: unknown): string {
  return text(record(record(json, "body").paymentDetails, "paymentDetails").trxRefID, "paymentDetails.trxRefID");
}

function vaStatus(value: unknown, path: string): AyoconnectVaStatus {
  if (typeof value === "string" && Object.hasOwn(AYOCONNECT_STATUS_TO_OURS, value)) return value as AyoconnectVaStatus;
  throw unexpected(path, `one of ${Object.keys(AYOCONNECT_STATUS_TO_OURS).join(", ")}`);
}

function optionalMoney(value: unknown, path: string): Rupiah | undefined {
  return value === undefined ? undefined : moneyValue(value, path);
}

function moneyValue(value: unknown, path: string): Rupiah {
  const money = record(value, path);
  if (money.currency !== "IDR") throw unexpected(`${path}.currency`, "IDR");
  return decimalRupiah(money.value, `${path}.value`);
}
