import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import type { AmountRule, VaStatus, VaUsage } from "../../domain/virtual-account.js";
import type { ProviderCreateRequest } from "../provider.js";
import { jsonObject, minutesUntil, wireReader } from "../shared/wire-helpers.js";

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
  /** Undefined when the item carries no time we can read (the published item is cut off before its times). */
  paidAt: Date | undefined;
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
  | {
      kind: "payment";
      paymentId: string;
      virtualAccountId: string;
      vaNumber: string | undefined;
      amount: Rupiah;
      paidAt: Date | undefined;
    }
  | { kind: "other"; event: string };

/** One item of `GET /v1/payments/va` (list), enough to adopt a VA by our `va_ref_id`. */
export interface DurianpayListedVa {
  id: string;
  accountNumber: string;
  vaRefId: string;
}

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
      .filter(isCompleted)
      .map((entry) => ({
        providerPaymentRef: identifier(entry.id, "payment.id"),
        amount: decimalRupiah(entry.amount_str ?? entry.amount, "payment.amount"),
        paidAt: firstTime(entry, ["paid_at", "updated_at", "created_at"]),
      })),
    lastPage: entries.length === 0,
  };
}

/** One page of `GET /v1/payments/va?from=&to=&skip=&limit=`: `{data:{virtual_accounts:[…]}}`. */
export function readListPage(json: unknown): DurianpayListedVa[] {
  const data = record(record(json, "body").data, "data");
  const items =
    data.virtual_accounts === undefined || data.virtual_accounts === null
      ? []
      : list(data.virtual_accounts, "data.virtual_accounts");
  return items.map((item, index) => {
    const va = record(item, `data.virtual_accounts[${index}]`);
    return {
      id: text(va.id, "virtual_account.id"),
      accountNumber: text(va.account_number, "virtual_account.account_number"),
      vaRefId: typeof va.va_ref_id === "string" ? va.va_ref_id : "",
    };
  });
}

/**
 * A webhook is only a claim (its signature formula is undocumented): this reads what to confirm.
 *
 * Two shapes are read. Durianpay's published samples are flat objects (`{id, amount, status,
 * metadata, signature, amount_str, created_at, …}`), with no event name in the body: the event is
 * the path Durianpay appends to the configured base URL, or, when the path names none, a payment is
 * recognised by a `pay_` id with status `completed`. The VA is named in `metadata` as the published
 * static-VA sample shows (`static_va_id`, `static_va_account_number`). The older `{event, data:{id,
 * virtual_account_id, amount_str}}` envelope is read too. The numeric `amount` is in hundredths
 * (`256393200` next to `"amount_str":"2563932.00"`), so `amount_str` is preferred and read exactly.
 */
export function readWebhook(json: unknown, path: string): DurianpayWebhook {
  const body = record(json, "body");
  const enveloped = typeof body.event === "string" && jsonObject(body.data) !== undefined;
  const payload = enveloped ? record(body.data, "data") : body;
  const event = enveloped ? (body.event as string) : eventFromPath(path);
  const id = typeof payload.id === "string" ? payload.id : "";
  if (event !== undefined && event !== "payment.completed") return { kind: "other", event };
  if (event === undefined && !(id.startsWith("pay_") && payload.status === "completed")) {
    return { kind: "other", event: `${id.split("_")[0] || "unnamed"} object with status ${String(payload.status)}` };
  }
  const metadata = jsonObject(payload.metadata) ?? {};
  const virtualAccountId = payload.virtual_account_id ?? metadata.static_va_id ?? metadata.va_id;
  // A completed payment naming no VA is a checkout payment, not one of ours.
  if (virtualAccountId === undefined) return { kind: "other", event: "payment.completed without a virtual account" };
  const vaNumber = payload.account_number ?? metadata.static_va_account_number ?? metadata.va_account_number;
  return {
    kind: "payment",
    paymentId: identifier(payload.id, "id"),
    virtualAccountId: identifier(virtualAccountId, "virtual account id"),
    vaNumber: typeof vaNumber === "string" && /^[0-9]{1,32}$/.test(vaNumber) ? vaNumber : undefined,
    amount: payload.amount_str !== undefined ? decimalRupiah(payload.amount_str, "amount_str") : hundredths(payload.amount),
    paidAt: firstTime(payload, ["paid_at", "updated_at", "created_at"]),
  };
}

/** `/webhooks/durianpay/payment.completed` → `payment.completed`; undefined when the path names no event. */
function eventFromPath(path: string): string | undefined {
  const last = path.split("/").filter(Boolean).at(-1) ?? "";
  return /^[a-z_]+(\.[a-z_]+)+$/.test(last) ? last : undefined;
}

/** An item of a VA's `payments` with no status is taken as paid: a VA lists the transfers it received. */
function isCompleted(entry: Record<string, unknown>): boolean {
  return entry.status === undefined || entry.status === null || entry.status === "completed";
}

function hundredths(value: unknown): Rupiah {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value % 100 !== 0) {
    throw unexpected("amount", "a whole rupiah amount in hundredths");
  }
  return BigInt(value) / 100n;
}

/** The first of `keys` holding a readable time: an ISO string or unix seconds. */
function firstTime(entry: Record<string, unknown>, keys: string[]): Date | undefined {
  for (const key of keys) {
    const value = entry[key];
    const date = typeof value === "string" ? new Date(value) : typeof value === "number" ? new Date(value * 1000) : undefined;
    if (date && !Number.isNaN(date.getTime())) return date;
  }
  return undefined;
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
