import type { Payment, PaymentOutcome } from "../domain/payment.js";
import type { AmountRule, VaStatus, VaUsage, VirtualAccount } from "../domain/virtual-account.js";
import type { PaymentRow, VirtualAccountRow } from "./entities.js";

/** Row ⇄ domain conversions, and the JSON snapshots kept in the event log. */

type VirtualAccountColumns = Omit<VirtualAccountRow, "version">;

export function virtualAccountToColumns(va: VirtualAccount): VirtualAccountColumns {
  const { amount, customer, ...rest } = va;
  return {
    ...rest,
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
