import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import type { AmountRule, VaStatus, VaUsage } from "../../domain/virtual-account.js";
import type { ProviderCreateRequest } from "../provider.js";
import { minutesUntil, wireReader } from "../wire-helpers.js";

/**
 * Our model ⇄ Durianpay's wire format (reference §6). Pure: no I/O, no clock of its own.
 *
 * Money: requests carry the closed `amount` as a decimal string and `min_amount`/`max_amount` as JSON
 * numbers; responses carry every VA amount as a JSON number. A number is only accepted when it is a
 * safe integer, so nothing JSON.parse may have rounded is ever taken as an amount.
 */

export const DURIANPAY = "durianpay";

const { unexpected, record, list, text, identifier, flag, timestamp, decimalRupiah } = wireReader(DURIANPAY);

export interface DurianpayCreateBody {
  bank_code: string;
  name: string;
  is_closed: boolean;
  amount: string | undefined;
  min_amount: number | undefined;
  max_amount: number | undefined;
  customer: { given_name: string; email: string | undefined; mobile: string | undefined };
  expiry_minutes: number;
  account_suffix: string | undefined;
  is_reusable: boolean;
  va_ref_id: string;
  auto_disable_after_payment: boolean;
}

export interface DurianpayPatchBody {
  expiry_minutes?: number;
  amount?: number;
  min_amount?: number;
  max_amount?: number;
  is_disabled?: boolean;
}

/** What an update may change. Durianpay cannot reopen a closed VA or drop a range once set. */
export interface VirtualAccountChanges {
  amount?: Extract<AmountRule, { type: "FIXED" | "RANGE" }>;
  expiresAt?: Date;
}

export interface DurianpayPayment {
  /** Durianpay's payment id (`pay_…`): the dedupe key of §9. */
  providerPaymentRef: string;
  amount: Rupiah;
  paidAt: Date;
}

export interface DurianpayVaState {
  providerReference: string;
  vaNumber: string;
  bankCode: string;
  usage: VaUsage;
  amount: AmountRule;
  expiresAt: Date;
  status: VaStatus;
  /** `is_disabled`: payments refused while the number stays reserved (reversible, unlike expiry). */
  disabled: boolean;
  payments: DurianpayPayment[];
}

export type DurianpayWebhook =
  | { kind: "payment"; paymentId: string; virtualAccountId: string; amount: Rupiah }
  | { kind: "other"; event: string };

export function toCreateBody(request: ProviderCreateRequest, now: Date): DurianpayCreateBody {
  const { amount, customer } = request;
  return {
    bank_code: request.bankCode,
    name: customer.name,
    is_closed: amount.type === "FIXED",
    amount: amount.type === "FIXED" ? amount.amount.toString() : undefined,
    min_amount: amount.type === "RANGE" ? toJsonInteger(amount.min) : undefined,
    max_amount: amount.type === "RANGE" ? toJsonInteger(amount.max) : undefined,
    customer: {
      given_name: customer.name,
      email: customer.email || undefined,
      mobile: customer.phone || undefined,
    },
    expiry_minutes: minutesUntil(request.expiresAt, now),
    account_suffix: request.numberSuffix || undefined,
    // Sent explicitly: the seed and the current reference disagree on both defaults.
    is_reusable: request.usage === "MULTI",
    va_ref_id: request.externalId,
    // A MULTI VA must keep taking payments; SINGLE is expressed by is_reusable=false.
    auto_disable_after_payment: false,
  };
}

export function toPatchBody(changes: VirtualAccountChanges, now: Date): DurianpayPatchBody {
  const body: DurianpayPatchBody = {};
  if (changes.expiresAt) body.expiry_minutes = minutesUntil(changes.expiresAt, now);
  if (changes.amount?.type === "FIXED") body.amount = toJsonInteger(changes.amount.amount);
  if (changes.amount?.type === "RANGE") {
    body.min_amount = toJsonInteger(changes.amount.min);
    body.max_amount = toJsonInteger(changes.amount.max);
  }
  return body;
}

/** The documented way to end a VA for good: `expiry_minutes: 0` expires it now. */
export const CANCEL_BODY: DurianpayPatchBody = { expiry_minutes: 0 };

export function readCreatedVirtualAccount(json: unknown): { id: string; accountNumber: string } {
  const va = record(record(record(json, "body").data, "data").virtual_account, "data.virtual_account");
  return {
    id: text(va.id, "virtual_account.id"),
    accountNumber: text(va.account_number, "virtual_account.account_number"),
  };
}

/** One page of `GET /v1/payments/va/:id?page=N`; `lastPage` once the page holds no payment at all. */
export function readFetchPage(json: unknown): {
  state: Omit<DurianpayVaState, "payments">;
  payments: DurianpayPayment[];
  lastPage: boolean;
} {
  const data = record(record(json, "body").data, "data");
  const va = record(data.virtual_account, "data.virtual_account");
  const entries = data.payments === undefined || data.payments === null ? [] : list(data.payments, "data.payments");
  const isReusable = flag(va.is_reusable, "virtual_account.is_reusable");
  const isPaid = flag(va.is_paid, "virtual_account.is_paid");
  const expired = data.virtual_account_status === "VirtualAccountExpired";
  return {
    state: {
      providerReference: text(va.id, "virtual_account.id"),
      vaNumber: text(va.account_number, "virtual_account.account_number"),
      bankCode: text(va.bank_code, "virtual_account.bank_code"),
      usage: isReusable ? "MULTI" : "SINGLE",
      amount: readAmountRule(va),
      expiresAt: timestamp(va.expiry_at, "virtual_account.expiry_at"),
      status: expired ? "EXPIRED" : isPaid ? (isReusable ? "PAID" : "COMPLETED") : "ACTIVE",
      disabled: flag(va.is_disabled, "virtual_account.is_disabled"),
    },
    payments: entries
      .map((entry, index) => record(entry, `data.payments[${index}]`))
      .filter((entry) => entry.status === "completed")
      .map((entry) => ({
        providerPaymentRef: text(entry.id, "payment.id"),
        amount: decimalRupiah(entry.amount, "payment.amount"),
        paidAt: timestamp(entry.paid_at, "payment.paid_at"),
      })),
    lastPage: entries.length === 0,
  };
}

/**
 * A webhook is only a hint (its signature formula is undocumented): this reads the ids to look up and
 * the amount claimed. The numeric `amount` is ignored: in Durianpay's samples it is in hundredths
 * (`256393200` next to `"amount_str":"2563932.00"`); `amount_str` is read exactly instead.
 */
export function readWebhook(json: unknown): DurianpayWebhook {
  const body = record(json, "body");
  const event = text(body.event, "event");
  if (event !== "payment.completed") return { kind: "other", event };
  const data = record(body.data, "data");
  return {
    kind: "payment",
    paymentId: identifier(data.id, "data.id"),
    virtualAccountId: identifier(data.virtual_account_id, "data.virtual_account_id"),
    amount: decimalRupiah(data.amount_str, "data.amount_str"),
  };
}

function readAmountRule(va: Record<string, unknown>): AmountRule {
  if (flag(va.is_closed, "virtual_account.is_closed")) {
    return { type: "FIXED", amount: integerRupiah(va.amount, "virtual_account.amount") };
  }
  const min = optionalIntegerRupiah(va.min_amount, "virtual_account.min_amount");
  const max = optionalIntegerRupiah(va.max_amount, "virtual_account.max_amount");
  // One-sided ranges (never created by this gateway) read as OPEN: our model has no such rule.
  return min !== undefined && max !== undefined ? { type: "RANGE", min, max } : { type: "OPEN" };
}

/** Our amounts are at most 12 digits, so this only guards the invariant that makes Number() exact. */
function toJsonInteger(amount: Rupiah): number {
  const value = Number(amount);
  if (!Number.isSafeInteger(value)) {
    throw new DomainError("INTERNAL", "amount does not fit a JSON integer exactly", { provider: DURIANPAY });
  }
  return value;
}

function integerRupiah(value: unknown, path: string): Rupiah {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw unexpected(path, "a whole rupiah amount that is a safe JSON integer");
  }
  return BigInt(value);
}

function optionalIntegerRupiah(value: unknown, path: string): Rupiah | undefined {
  return value === null || value === undefined ? undefined : integerRupiah(value, path);
}
