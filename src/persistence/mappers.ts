import type { HeldPayment, HeldState, HoldReason, Payment, PaymentOutcome } from "../domain/payment.js";
import type { AmountRule, VaStatus, VaUsage, VirtualAccount } from "../domain/virtual-account.js";
import type { HeldPaymentRow, PaymentRow, VirtualAccountRow } from "./entities.js";

/** Row ⇄ domain conversions, and the JSON snapshots kept in the event log. */

type VirtualAccountColumns = Omit<VirtualAccountRow, "version">;

export function virtualAccountToColumns(va: VirtualAccount): VirtualAccountColumns {
  const { amount, customer, providerVaId, ...rest } = va;
  return {
    ...rest,
    providerVaId: providerVaId ?? null,
    amountType: amount.type,
    amountFixed: amount.type === "FIXED" ? amount.amount : null,
    amountMin: amount.type === "RANGE" ? amount.min : null,
    amountMax: amount.type === "RANGE" ? amount.max : null,
    customerName: customer.name,
    customerEmail: customer.email,
    customerPhone: customer.phone,
  };
}

export function virtualAccountFromRow(row: VirtualAccountColumns): VirtualAccount {
  return {
    id: row.id,
    tenantId: row.tenantId,
    merchantReference: row.merchantReference,
    provider: row.provider,
    providerAccount: row.providerAccount,
    providerReference: row.providerReference,
    providerVaId: row.providerVaId ?? undefined,
    bankCode: row.bankCode,
    vaNumber: row.vaNumber,
    usage: row.usage as VaUsage,
    amount: amountFromColumns(row),
    status: row.status as VaStatus,
    expiresAt: new Date(row.expiresAt),
    customer: { name: row.customerName, email: row.customerEmail, phone: row.customerPhone },
    description: row.description,
    paidAmount: BigInt(row.paidAmount),
    paymentCount: Number(row.paymentCount),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}

function amountFromColumns(row: VirtualAccountColumns): AmountRule {
  switch (row.amountType) {
    case "FIXED":
      return { type: "FIXED", amount: BigInt(row.amountFixed ?? 0n) };
    case "RANGE":
      return { type: "RANGE", min: BigInt(row.amountMin ?? 0n), max: BigInt(row.amountMax ?? 0n) };
    default:
      return { type: "OPEN" };
  }
}

export function paymentToColumns(payment: Payment): PaymentRow {
  return { ...payment, fee: payment.fee ?? null };
}

export function paymentFromRow(row: PaymentRow): Payment {
  return {
    id: row.id,
    tenantId: row.tenantId,
    virtualAccountId: row.virtualAccountId,
    provider: row.provider,
    providerAccount: row.providerAccount,
    providerPaymentRef: row.providerPaymentRef,
    amount: BigInt(row.amount),
    fee: row.fee === null || row.fee === undefined ? undefined : BigInt(row.fee),
    outcome: row.outcome as PaymentOutcome,
    paidAt: new Date(row.paidAt),
    recordedAt: new Date(row.recordedAt),
    rawPayload: row.rawPayload,
  };
}

export function heldPaymentToColumns(held: HeldPayment): HeldPaymentRow {
  const { payment, ...rest } = held;
  return {
    ...rest,
    providerAccount: payment.providerAccount,
    providerPaymentRef: payment.providerPaymentRef,
    providerVaId: payment.providerVaId ?? null,
    vaNumber: payment.vaNumber,
    amount: payment.amount,
    fee: payment.fee ?? null,
    paidAt: payment.paidAt,
    rawPayload: payment.rawPayload,
    detail: rest.detail.slice(0, 255),
    resolvedAt: rest.resolvedAt ?? null,
    virtualAccountId: rest.virtualAccountId ?? null,
  };
}

export function heldPaymentFromRow(row: HeldPaymentRow): HeldPayment {
  return {
    id: row.id,
    provider: row.provider,
    payment: {
      providerAccount: row.providerAccount,
      providerPaymentRef: row.providerPaymentRef,
      providerVaId: row.providerVaId ?? undefined,
      vaNumber: row.vaNumber,
      amount: BigInt(row.amount),
      fee: row.fee === null || row.fee === undefined ? undefined : BigInt(row.fee),
      paidAt: new Date(row.paidAt),
      rawPayload: row.rawPayload,
    },
    reason: row.reason as HoldReason,
    detail: row.detail,
    state: row.state as HeldState,
    attempts: Number(row.attempts),
    nextAttemptAt: new Date(row.nextAttemptAt),
    receivedAt: new Date(row.receivedAt),
    resolvedAt: row.resolvedAt ? new Date(row.resolvedAt) : undefined,
    virtualAccountId: row.virtualAccountId ?? undefined,
  };
}

const DATE_KEYS = new Set(["expiresAt", "createdAt", "updatedAt", "paidAt", "recordedAt"]);
const BIGINT_KEYS = new Set(["paidAmount", "amount", "min", "max", "fee"]);

/** JSON with bigints as decimal strings; `parseSnapshot` restores the exact types. */
export const snapshot = (value: VirtualAccount | Payment): string =>
  JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v));

export function parseSnapshot<T extends VirtualAccount | Payment>(json: string): T {
  return JSON.parse(json, (key, v) => {
    if (DATE_KEYS.has(key) && typeof v === "string") return new Date(v);
    if (BIGINT_KEYS.has(key) && typeof v === "string") return BigInt(v);
    return v;
  }) as T;
}
