import type { Rupiah } from "../../domain/money.js";
import type { AmountRule } from "../../domain/virtual-account.js";
import type { DokuChannel, DokuNumbering } from "../../providers/doku/channels.js";
import { dokuTimestamp } from "../../providers/doku/signature.js";
import { type DokuNotificationBody, valueAt } from "../../providers/doku/transformers.js";

/**
 * The checks the DOKU simulator applies to payment-code requests and simulated payments. Field
 * limits follow DOKU's docs where stated (invoice 64, Request-Id 128, amount 12 digits, VA number 23
 * digits, BIN rules); the rest are documented choices (reference §10).
 */

/** A request DOKU refuses: answered as `{"error":{"code","message"}}` with `status`. */
export class DokuRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const invalidParameter = (message: string) => new DokuRefusal(400, "invalid_parameter", message);

export interface DokuLedgerPayment {
  referenceNumber: string;
  amount: Rupiah;
  paidAt: Date;
  notificationRequestId: string;
  /** What the adapter reads from this payment's notification and check status. */
  providerPaymentRef: string;
}

export interface DokuLedgerEntry {
  invoiceNumber: string;
  channel: DokuChannel;
  vaNumber: string;
  numbering: DokuNumbering;
  /** DOKU's billing type as requested, e.g. FIX_BILL, or BNI's OPEN. */
  billingType: string;
  amount: AmountRule;
  reusable: boolean;
  customer: { name: string; email: string | undefined };
  createRequestId: string;
  createdAt: Date;
  expiresAt: Date;
  status: "ACTIVE" | "PAID" | "DELETED";
  payments: DokuLedgerPayment[];
}

export interface PaymentCodeSpec {
  invoiceNumber: string;
  billingType: string;
  amount: AmountRule;
  reusable: boolean;
  expiredMinutes: number;
  customer: { name: string; email: string | undefined };
}

const MAX_INVOICE_NUMBER = 64;
const MAX_EXPIRED_TIME_MINUTES = 99_999_999;
const MAX_CUSTOMER_NAME = 255;
const MAX_CUSTOMER_EMAIL = 128;
/** `order.amount`: a number of at most 12 digits. */
const MAX_DOKU_AMOUNT = 999_999_999_999;
const MAX_VA_NUMBER_DIGITS = 23;
const CONTROL_CHARACTER = /\p{Cc}/u;

export function readPaymentCodeRequest(body: unknown, channel: DokuChannel): PaymentCodeSpec {
  const invoiceNumber = valueAt(body, "order", "invoice_number");
  if (!isText(invoiceNumber, MAX_INVOICE_NUMBER)) {
    throw invalidParameter(`order.invoice_number is required: 1 to ${MAX_INVOICE_NUMBER} characters`);
  }
  const expiredMinutes = valueAt(body, "virtual_account_info", "expired_time");
  if (!isWholeNumber(expiredMinutes, 1, MAX_EXPIRED_TIME_MINUTES)) {
    throw invalidParameter(`virtual_account_info.expired_time must be whole minutes, 1 to ${MAX_EXPIRED_TIME_MINUTES}`);
  }
  const reusable = valueAt(body, "virtual_account_info", "reusable_status") ?? false;
  if (typeof reusable !== "boolean") throw invalidParameter("virtual_account_info.reusable_status must be a boolean");
  const { billingType, ruleType } = readBillingType(body, channel);
  return {
    invoiceNumber,
    billingType,
    amount: readAmountRule(body, ruleType),
    reusable,
    expiredMinutes,
    customer: readCustomer(body),
  };
}

function readBillingType(body: unknown, channel: DokuChannel): { billingType: string; ruleType: AmountRule["type"] } {
  const { field, types } = channel.billing;
  const sent = field === undefined ? undefined : valueAt(body, "virtual_account_info", field);
  const billingType = sent ?? types.FIXED;
  const ruleType = (Object.keys(types) as AmountRule["type"][]).find((type) => types[type] === billingType);
  if (typeof billingType !== "string" || ruleType === undefined) {
    throw invalidParameter(`virtual_account_info.${field} ${String(sent)} is not offered at ${channel.bankCode}`);
  }
  return { billingType, ruleType };
}

function readAmountRule(body: unknown, ruleType: AmountRule["type"]): AmountRule {
  switch (ruleType) {
    case "FIXED":
      return { type: "FIXED", amount: readAmount(valueAt(body, "order", "amount"), "order.amount") };
    case "RANGE": {
      const min = readAmount(valueAt(body, "order", "min_amount"), "order.min_amount");
      const max = readAmount(valueAt(body, "order", "max_amount"), "order.max_amount");
      if (min >= max) throw invalidParameter("order.min_amount must be less than order.max_amount");
      return { type: "RANGE", min, max };
    }
    case "OPEN":
      return { type: "OPEN" };
  }
}

function readCustomer(body: unknown): PaymentCodeSpec["customer"] {
  const name = valueAt(body, "customer", "name");
  if (!isText(name, MAX_CUSTOMER_NAME)) {
    throw invalidParameter(`customer.name is required: 1 to ${MAX_CUSTOMER_NAME} characters`);
  }
  const email = valueAt(body, "customer", "email");
  if (email !== undefined && !(isText(email, MAX_CUSTOMER_EMAIL) && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))) {
    throw invalidParameter("customer.email is not an email address");
  }
  return { name, email };
}

/** A merchant-generated number: the merchant's BIN, then at least one free digit, 23 digits at most. */
export function checkMerchantNumber(vaNumber: unknown, merchantBin: string | undefined): string {
  const field = "virtual_account_info.virtual_account_number";
  if (merchantBin === undefined) {
    throw invalidParameter(`${field} is not accepted: this merchant has no BIN for merchant generated payment codes`);
  }
  if (typeof vaNumber !== "string" || !/^[0-9]+$/.test(vaNumber)) throw invalidParameter(`${field} must be digits`);
  if (!vaNumber.startsWith(merchantBin) || vaNumber.length === merchantBin.length) {
    throw invalidParameter(`${field} must be the merchant's BIN ${merchantBin} followed by free digits`);
  }
  if (vaNumber.length > MAX_VA_NUMBER_DIGITS) {
    throw invalidParameter(`${field} has more than ${MAX_VA_NUMBER_DIGITS} digits`);
  }
  return vaNumber;
}

/** The entry and amount the bank lets a payer pay, or why it refuses. */
export function checkPayment(
  entry: DokuLedgerEntry | undefined,
  amountValue: unknown,
  now: Date,
  holdToBill = true,
): { entry: DokuLedgerEntry; amount: Rupiah } {
  if (entry === undefined || entry.status === "DELETED") {
    throw new DokuRefusal(404, "not_found", "virtual account number is not registered");
  }
  if (now.getTime() >= entry.expiresAt.getTime()) throw new DokuRefusal(404, "expired", "payment code has expired");
  if (entry.status === "PAID") throw new DokuRefusal(409, "already_paid", "payment code has been paid and is not reusable");
  const amount = readAmount(amountValue, "amount");
  const rule = entry.amount;
  if (!holdToBill) return { entry, amount };
  if (rule.type === "FIXED" && amount !== rule.amount) {
    throw invalidParameter(`amount must equal the bill of ${rule.amount}`);
  }
  if (rule.type === "RANGE" && (amount < rule.min || amount > rule.max)) {
    throw invalidParameter(`amount must lie within ${rule.min} and ${rule.max}`);
  }
  return { entry, amount };
}

/** A JSON number of whole rupiah: DOKU's amounts are integers of at most 12 digits. */
function readAmount(value: unknown, field: string): Rupiah {
  if (!isWholeNumber(value, 1, MAX_DOKU_AMOUNT)) {
    throw invalidParameter(`${field} must be a whole rupiah amount of 1 to 12 digits`);
  }
  return BigInt(value);
}

function isWholeNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;
}

function isText(value: unknown, maxLength: number): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= maxLength && !CONTROL_CHARACTER.test(value);
}

/**
 * The HTTP notification DOKU sends for one payment, shaped like DOKU's published BCA sample ("HTTP
 * Notification Sample - Non SNAP"): the bank's ids of the payment as `identifier` name/value pairs.
 * Every bank gets BCA's pair names here; real banks name theirs differently (see test/fixtures/doku).
 */
export function notificationOf(
  entry: DokuLedgerEntry,
  payment: Omit<DokuLedgerPayment, "providerPaymentRef">,
): DokuNotificationBody {
  return {
    service: { id: "VIRTUAL_ACCOUNT" },
    acquirer: { id: entry.channel.acquirerId },
    channel: { id: entry.channel.channelId },
    transaction: { status: "SUCCESS", date: dokuTimestamp(payment.paidAt), original_request_id: entry.createRequestId },
    order: { invoice_number: entry.invoiceNumber, amount: Number(payment.amount) },
    virtual_account_info: { virtual_account_number: entry.vaNumber },
    virtual_account_payment: {
      identifier: [
        { name: "REQUEST_ID", value: payment.referenceNumber.slice(-7) },
        { name: "REFERENCE", value: payment.referenceNumber },
        { name: "CHANNEL_TYPE", value: ATM_CHANNEL_TYPE },
      ],
    },
  };
}

/**
 * DOKU's check status answer for a payment code: "similar to HTTP notification" (DOKU's Check
 * Status API page), i.e. the latest payment's notification once paid. Before that, the same
 * envelope with PENDING, EXPIRED, or FAILED for a deleted code, and no payment [uncertain: DOKU
 * publishes no unpaid VA sample; FAILED for a deleted code is our choice].
 */
export function checkStatusOf(entry: DokuLedgerEntry, now: Date): unknown {
  const latest = entry.payments.at(-1);
  if (latest !== undefined) return notificationOf(entry, latest);
  const status = entry.status === "DELETED" ? "FAILED" : now.getTime() >= entry.expiresAt.getTime() ? "EXPIRED" : "PENDING";
  return {
    service: { id: "VIRTUAL_ACCOUNT" },
    acquirer: { id: entry.channel.acquirerId },
    channel: { id: entry.channel.channelId },
    transaction: { status, date: dokuTimestamp(entry.createdAt), original_request_id: entry.createRequestId },
    order: {
      invoice_number: entry.invoiceNumber,
      ...(entry.amount.type === "FIXED" ? { amount: Number(entry.amount.amount) } : {}),
    },
    virtual_account_info: { virtual_account_number: entry.vaNumber },
  };
}

/** The bank channel type a simulated payer uses (DOKU's sample has 6010). */
const ATM_CHANNEL_TYPE = "6010";
/** WIB (UTC+7), the zone of DOKU's compact dates such as `virtual_account_payment.date`. */
const WIB_OFFSET_MS = 7 * 3_600_000;

/** DOKU's compact local dates, e.g. `20210127102423` for 2021-01-27T03:24:23Z. */
export function wibCompact(at: Date): string {
  return new Date(at.getTime() + WIB_OFFSET_MS).toISOString().slice(0, 19).replace(/[-T:]/g, "");
}
