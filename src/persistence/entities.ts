import { defineEntity, type InferEntity } from "@mikro-orm/core";

/** Table layouts. Amounts are bigint columns of whole rupiah; enums are stored as their names. */

export const VirtualAccountRow = defineEntity({
  name: "VirtualAccountRow",
  tableName: "virtual_account",
  properties: (p) => ({
    id: p.string().primary().length(40),
    tenantId: p.string().length(64),
    merchantReference: p.string().length(64),
    provider: p.string().length(32),
    providerAccount: p.string().length(64),
    providerReference: p.string().length(128),
    bankCode: p.string().length(16),
    vaNumber: p.string().length(32),
    usage: p.string().length(8),
    amountType: p.string().length(8),
    amountFixed: p.bigint().nullable(),
    amountMin: p.bigint().nullable(),
    amountMax: p.bigint().nullable(),
    status: p.string().length(16),
    expiresAt: p.datetime(),
    customerName: p.string().length(100),
    customerEmail: p.string().length(254),
    customerPhone: p.string().length(16),
    description: p.string().length(255),
    paidAmount: p.bigint(),
    paymentCount: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    version: p.integer().version(),
  }),
  indexes: [
    { name: "virtual_account_lookup_idx", properties: ["provider", "providerAccount", "vaNumber"] },
    { name: "virtual_account_merchant_ref_idx", properties: ["tenantId", "merchantReference"] },
    { name: "virtual_account_due_idx", properties: ["status", "expiresAt"] },
  ],
});
export type VirtualAccountRow = InferEntity<typeof VirtualAccountRow>;

export const PaymentRow = defineEntity({
  name: "PaymentRow",
  tableName: "payment",
  properties: (p) => ({
    id: p.string().primary().length(40),
    tenantId: p.string().length(64),
    virtualAccountId: p.string().length(40),
    provider: p.string().length(32),
    providerAccount: p.string().length(64),
    providerPaymentRef: p.string().length(128),
    amount: p.bigint(),
    fee: p.bigint().nullable(),
    outcome: p.string().length(16),
    paidAt: p.datetime(),
    recordedAt: p.datetime(),
    rawPayload: p.text(),
  }),
  uniques: [{ name: "payment_provider_ref_unique", properties: ["provider", "providerAccount", "providerPaymentRef"] }],
  indexes: [{ name: "payment_virtual_account_idx", properties: ["virtualAccountId"] }],
});
export type PaymentRow = InferEntity<typeof PaymentRow>;

export const EventRow = defineEntity({
  name: "EventRow",
  tableName: "va_event",
  properties: (p) => ({
    sequence: p.bigint().primary().autoincrement(),
    tenantId: p.string().length(64),
    virtualAccountId: p.string().length(40),
    merchantReference: p.string().length(64),
    type: p.string().length(32),
    cause: p.string().length(16),
    occurredAt: p.datetime(),
    /** The VA and payment right after the change, as JSON (bigints as decimal strings). */
    virtualAccount: p.text(),
    payment: p.text().nullable(),
  }),
  indexes: [
    { name: "va_event_tenant_idx", properties: ["tenantId", "sequence"] },
    { name: "va_event_virtual_account_idx", properties: ["virtualAccountId", "sequence"] },
  ],
});
export type EventRow = InferEntity<typeof EventRow>;

/** One row per idempotency key and operation; holds the first request's hash and its result. */
export const IdempotencyRow = defineEntity({
  name: "IdempotencyRow",
  tableName: "idempotency_key",
  properties: (p) => ({
    tenantId: p.string().primary().length(64),
    operation: p.string().primary().length(16),
    key: p.string().primary().length(64),
    requestHash: p.string().length(64),
    state: p.string().length(16),
    virtualAccountId: p.string().length(40).nullable(),
    createdAt: p.datetime(),
  }),
});
export type IdempotencyRow = InferEntity<typeof IdempotencyRow>;

export const ENTITIES = [VirtualAccountRow, PaymentRow, EventRow, IdempotencyRow];
