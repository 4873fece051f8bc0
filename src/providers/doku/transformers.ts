import { createHash } from "node:crypto";
import { DomainError } from "../../domain/errors.js";
import { MAX_RUPIAH, type Rupiah } from "../../domain/money.js";
import type { AmountRule } from "../../domain/virtual-account.js";
import type { ProviderCreateRequest, ProviderVaRef } from "../provider.js";
import type { DokuChannel } from "./channels.js";
import { dokuTimestamp } from "./signature.js";

/** Pure mapping between our model and DOKU's non-SNAP v2 wire types (reference §4.2, §4.4). */

export const DOKU = "doku";

export interface PaymentCodeRequest {
  order: { invoice_number: string; amount?: number; min_amount?: number; max_amount?: number };
  virtual_account_info: {
    virtual_account_number?: string;
    /** Minutes from now. */
    expired_time: number;
    reusable_status: boolean;
    billing_type?: string;
    biling_type?: string;
  };
  customer: { name: string; email?: string };
}

export interface DeletePaymentCodeRequest {
  order: { invoice_number: string };
  virtual_account_info: { virtual_account_number: string; status: "DELETE" };
}

/**
 * DOKU's HTTP notification for a VA payment, as its published samples have it; amounts are JSON
 * numbers of whole rupiah. `virtual_account_payment.identifier` names the bank's own ids of the
 * payment, which differ per bank (BCA REQUEST_ID/REFERENCE/CHANNEL_TYPE, BRI TRANSAKSI_ID/TERMINAL_ID…).
 */
export interface DokuNotificationBody {
  service: { id: "VIRTUAL_ACCOUNT" };
  acquirer: { id: string };
  channel: { id: string };
  transaction: { status: string; date: string; original_request_id: string };
  order: { invoice_number: string; amount: number };
  virtual_account_info: { virtual_account_number: string };
  virtual_account_payment: { identifier: { name: string; value: string }[] };
}

/** DOKU's check status path for an invoice (reference §4.2): a GET, signed without Digest. */
export const checkStatusPath = (invoiceNumber: string) => `/orders/v1/status/${encodeURIComponent(invoiceNumber)}`;

/** Simulator only, no DOKU API: pays a VA number the way a payer at the bank would. */
export const SIMULATED_PAYMENT_PATH = "/simulator/v1/virtual-account-payments";

export interface SimulatedPaymentRequest {
  virtual_account_number: string;
  amount: number;
}

/** DOKU's error body; the official WooCommerce plugin reads `error.message`. */
export interface DokuErrorBody {
  error: { code: string; message: string };
}

export const dokuErrorBody = (code: string, message: string): DokuErrorBody => ({ error: { code, message } });

const MAX_INVOICE_NUMBER_LENGTH = 64;

export function toPaymentCodeRequest(
  request: ProviderCreateRequest,
  channel: DokuChannel,
  numbering: { vaNumber: string | undefined; expiredMinutes: number },
): PaymentCodeRequest {
  const billingType = channel.billing.types[request.amount.type];
  if (billingType === undefined) {
    throw refusedLocally("amount", `DOKU does not offer ${request.amount.type} amounts at ${channel.bankCode}`);
  }
  if (request.externalId.length > MAX_INVOICE_NUMBER_LENGTH) {
    throw refusedLocally("idempotency_key", `DOKU invoice numbers have at most ${MAX_INVOICE_NUMBER_LENGTH} characters`);
  }
  const billingField = channel.billing.field;
  return {
    order: { invoice_number: request.externalId, ...orderAmounts(request.amount) },
    virtual_account_info: {
      ...(numbering.vaNumber === undefined ? {} : { virtual_account_number: numbering.vaNumber }),
      expired_time: numbering.expiredMinutes,
      reusable_status: request.usage === "MULTI",
      ...(billingField === undefined ? {} : { [billingField]: billingType }),
    },
    customer: {
      name: request.customer.name,
      ...(request.customer.email === "" ? {} : { email: request.customer.email }),
    },
  };
}

function orderAmounts(rule: AmountRule): Pick<PaymentCodeRequest["order"], "amount" | "min_amount" | "max_amount"> {
  switch (rule.type) {
    case "FIXED":
      return { amount: jsonInteger(rule.amount, "amount.fixed.amount") };
    case "RANGE":
      return {
        min_amount: jsonInteger(rule.min, "amount.range.min"),
        max_amount: jsonInteger(rule.max, "amount.range.max"),
      };
    case "OPEN":
      return {};
  }
}

/** DOKU takes amounts as JSON numbers: only values a double holds exactly may be sent. */
export function jsonInteger(amount: Rupiah, field: string): number {
  if (amount < 0n || amount > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw refusedLocally(field, "amount cannot be sent to DOKU exactly");
  }
  return Number(amount);
}

export function toDeleteRequest(va: ProviderVaRef): DeletePaymentCodeRequest {
  return {
    order: { invoice_number: va.providerReference },
    virtual_account_info: { virtual_account_number: va.vaNumber, status: "DELETE" },
  };
}

/** DOKU's `expired_time` is whole minutes; rounding up keeps the VA open until our expiry. */
export function expiredTimeMinutes(expiresAt: Date, now: Date): number {
  const minutes = Math.ceil((expiresAt.getTime() - now.getTime()) / 60_000);
  if (minutes < 1) throw refusedLocally("expires_at", "must lie in the future");
  return minutes;
}

/** The number DOKU issued (`virtual_account_info.virtual_account_number`), when the body has one. */
export function readIssuedNumber(json: unknown): string | undefined {
  const number = valueAt(json, "virtual_account_info", "virtual_account_number");
  return typeof number === "string" ? number : undefined;
}

/** The payment the simulator answers a simulated payment with: shaped like its notification. */
export function readSimulatedPayment(text: string): DokuPayment | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const reading = readTransaction(json, text);
  return reading.kind === "payment" ? reading.payment : undefined;
}

export function readDokuError(json: unknown): { code: string; message: string } | undefined {
  const code = valueAt(json, "error", "code");
  const message = valueAt(json, "error", "message");
  if (typeof message !== "string") return undefined;
  return { code: typeof code === "string" ? code : "", message };
}

/** DOKU field paths its messages name, and the field of our create request each comes from. */
const REQUEST_FIELD_BY_DOKU_FIELD: ReadonlyArray<readonly [string, string]> = [
  ["order.invoice_number", "idempotency_key"],
  ["Request-Id", "idempotency_key"],
  ["order.min_amount", "amount.range.min"],
  ["order.max_amount", "amount.range.max"],
  ["order.amount", "amount.fixed.amount"],
  ["virtual_account_info.virtual_account_number", "number_suffix"],
  ["virtual_account_info.expired_time", "expires_at"],
  ["virtual_account_info.billing_type", "amount"],
  ["virtual_account_info.biling_type", "amount"],
  ["customer.name", "customer.name"],
  ["customer.email", "customer.email"],
];

/** Our request field behind the first DOKU field a refusal message names. */
export function requestFieldNamedIn(message: string): string | undefined {
  return REQUEST_FIELD_BY_DOKU_FIELD.find(([dokuField]) => message.includes(dokuField))?.[1];
}

/** Unique per payment (one reusable VA takes several), equal on every retry of its notification. */
export const paymentReference = (invoiceNumber: string, paymentId: string) => `${invoiceNumber}#${paymentId}`;

/** Our payment references must fit the ledger's 128 characters; longer ids are hashed. */
const MAX_REFERENCE_LENGTH = 128;

/**
 * The payment's id within its invoice, from what DOKU's notification and check status both carry
 * (check status answers "similar to HTTP notification"): `reference_number` where DOKU's own
 * libraries read one, else the bank's `identifier` pairs (DOKU's page prints the key `identifer`;
 * both are read), else `transaction.date`. Never a header: check status could not name it again.
 */
function paymentIdOf(json: unknown, invoiceNumber: string, paidAt: Date): string {
  const referenceNumber = valueAt(json, "virtual_account_payment", "reference_number");
  if (typeof referenceNumber === "string" && referenceNumber !== "") return fitted(invoiceNumber, referenceNumber);
  const pairs = identifierPairs(json);
  if (pairs.length > 0) return fitted(invoiceNumber, pairs.join(";"));
  return dokuTimestamp(paidAt);
}

function identifierPairs(json: unknown): string[] {
  const list = valueAt(json, "virtual_account_payment", "identifier") ?? valueAt(json, "virtual_account_payment", "identifer");
  if (!Array.isArray(list)) return [];
  return list
    .map((item) => [valueAt(item, "name"), valueAt(item, "value")])
    .filter(
      (pair): pair is [string, string | number] => typeof pair[0] === "string" && ["string", "number"].includes(typeof pair[1]),
    )
    .map(([name, value]) => `${name}=${value}`)
    .sort();
}

function fitted(invoiceNumber: string, paymentId: string): string {
  if (paymentReference(invoiceNumber, paymentId).length <= MAX_REFERENCE_LENGTH) return paymentId;
  return createHash("sha256").update(paymentId).digest("hex").slice(0, 40);
}

export interface DokuPayment {
  invoiceNumber: string;
  vaNumber: string;
  amount: Rupiah;
  paidAt: Date;
  /** Our reference of this payment: invoice number and the payment's id within it. */
  providerPaymentRef: string;
}

export type NotificationReading =
  | { kind: "payment"; payment: DokuPayment }
  | { kind: "not-a-payment"; status: string; invoiceNumber: string | undefined }
  | { kind: "invalid"; problem: string };

/** Reads a notification body non-strictly (DOKU adds fields), but its money and ids exactly. */
export function readNotification(rawBody: string): NotificationReading {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { kind: "invalid", problem: "body is not JSON" };
  }
  return readTransaction(json, rawBody);
}

/**
 * Reads a transaction as DOKU's notification and its check status answer both carry it. `rawBody`
 * is the text `json` was parsed from, checked for amounts JSON.parse would round.
 */
export function readTransaction(json: unknown, rawBody: string): NotificationReading {
  const status = valueAt(json, "transaction", "status");
  if (typeof status !== "string") return { kind: "invalid", problem: "transaction.status is missing" };
  const invoiceNumber = valueAt(json, "order", "invoice_number");
  if (status !== "SUCCESS") {
    return { kind: "not-a-payment", status, invoiceNumber: typeof invoiceNumber === "string" ? invoiceNumber : undefined };
  }
  const vaNumber = readIssuedNumber(json);
  const amount = hasFractionalAmount(rawBody) ? undefined : wholeRupiah(valueAt(json, "order", "amount"));
  const paidAt = isoInstant(valueAt(json, "transaction", "date"));
  if (typeof invoiceNumber !== "string" || invoiceNumber === "") {
    return { kind: "invalid", problem: "order.invoice_number is missing" };
  }
  if (vaNumber === undefined || !/^[0-9]{1,23}$/.test(vaNumber)) {
    return { kind: "invalid", problem: "virtual_account_info.virtual_account_number is not a VA number" };
  }
  if (amount === undefined) return { kind: "invalid", problem: "order.amount is not a whole rupiah amount" };
  if (paidAt === undefined) return { kind: "invalid", problem: "transaction.date is not an ISO-8601 instant" };
  return {
    kind: "payment",
    payment: {
      invoiceNumber,
      vaNumber,
      amount,
      paidAt,
      providerPaymentRef: paymentReference(invoiceNumber, paymentIdOf(json, invoiceNumber, paidAt)),
    },
  };
}

/**
 * JSON.parse would silently round a literal such as `150000.000000000000001` to an integer, so the
 * raw text is checked first: an `amount` literal may carry only a zero fraction and no exponent.
 */
const FRACTIONAL_AMOUNT_LITERAL = /"amount"\s*:\s*-?[0-9]+(\.[0-9]*[1-9]|(\.[0-9]+)?[eE])/;

function hasFractionalAmount(rawBody: string): boolean {
  return FRACTIONAL_AMOUNT_LITERAL.test(rawBody);
}

/** A JSON number of whole rupiah: a safe integer (so exact) between 1 and MAX_RUPIAH. */
function wholeRupiah(value: unknown): Rupiah | undefined {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) return undefined;
  const amount = BigInt(value);
  return amount <= MAX_RUPIAH ? amount : undefined;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function isoInstant(value: unknown): Date | undefined {
  if (typeof value !== "string" || !ISO_INSTANT.test(value)) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

export function valueAt(json: unknown, ...path: string[]): unknown {
  let current = json;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A request we do not send because DOKU could not take it. */
export function refusedLocally(field: string, message: string): DomainError {
  return new DomainError("INVALID_ARGUMENT", `${field}: ${message}`, { field, provider: DOKU });
}
