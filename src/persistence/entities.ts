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
    /** The provider's own identity of the VA, as its callbacks name it; null when they name none. */
    providerVaId: p.string().length(128).nullable(),
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
    { name: "virtual_account_provider_id_idx", properties: ["provider", "providerAccount", "providerVaId"] },
    { name: "virtual_account_merchant_ref_idx", properties: ["tenantId", "merchantReference"] },
    { name: "virtual_account_due_idx", properties: ["status", "expiresAt"] },
    /** ListVirtualAccounts: a tenant's VAs newest first, resumed from a page token. */
    { name: "virtual_account_tenant_created_idx", properties: ["tenantId", "createdAt", "id"] },
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

/**
 * SNAP X-EXTERNAL-ID replay guard of every inbound SNAP path: one row per partner, Jakarta day and
 * id, with the hash of the body it came with (a retry with the same body is let through, a different
 * body under a used id is refused). The biller flow inserts it in the transaction of its work.
 */
export const SnapExternalIdRow = defineEntity({
  name: "SnapExternalIdRow",
  tableName: "snap_external_id",
  properties: (p) => ({
    /** X-PARTNER-ID (36 at most), prefixed with the provider's name on callback paths. */
    partnerId: p.string().primary().length(72),
    day: p.string().primary().length(10),
    externalId: p.string().primary().length(36),
    claimedAt: p.datetime(),
    /** sha-256 hex of the body; null on rows of the biller flow, which keeps its answers itself. */
    bodyHash: p.string().length(64).nullable(),
  }),
  indexes: [{ name: "snap_external_id_day_idx", properties: ["day"] }],
});
export type SnapExternalIdRow = InferEntity<typeof SnapExternalIdRow>;

/**
 * One bank inquiry (SNAP service 24) of a VA we host, keyed by the bank and its inquiryRequestId
 * (= the paymentRequestId of the payment that follows). Holds the 5-minute timer and the answers we
 * gave, so a repeated request gets the original bytes back.
 */
export const BillerInquiryRow = defineEntity({
  name: "BillerInquiryRow",
  tableName: "biller_inquiry",
  properties: (p) => ({
    partnerId: p.string().primary().length(36),
    inquiryRequestId: p.string().primary().length(128),
    virtualAccountId: p.string().length(40),
    virtualAccountNo: p.string().length(28),
    /** The amount the inquiry quoted (fixed bill or the amount the payer typed); null = per the rule. */
    amount: p.bigint().nullable(),
    state: p.string().length(16),
    inquiredAt: p.datetime(),
    payBy: p.datetime(),
    inquiryAnswer: p.text(),
    paymentFingerprint: p.string().length(64).nullable(),
    paymentStatus: p.integer().nullable(),
    paymentAnswer: p.text().nullable(),
    paidAmount: p.bigint().nullable(),
    paidAt: p.datetime().nullable(),
    statusChecks: p.integer(),
    statusCheckedAt: p.datetime().nullable(),
  }),
  indexes: [{ name: "biller_inquiry_open_idx", properties: ["state", "payBy"] }],
});
export type BillerInquiryRow = InferEntity<typeof BillerInquiryRow>;

/**
 * A payment a provider reported that is not on a VA yet: waiting for confirmation with the provider
 * (the callback could not be believed on its face) or for a VA it matches. Kept until resolved, so
 * neither a crash nor an unknown VA can drop money; operators list what stays held.
 */
export const HeldPaymentRow = defineEntity({
  name: "HeldPaymentRow",
  tableName: "held_payment",
  properties: (p) => ({
    id: p.string().primary().length(40),
    provider: p.string().length(32),
    providerAccount: p.string().length(64),
    providerPaymentRef: p.string().length(128),
    providerVaId: p.string().length(128).nullable(),
    vaNumber: p.string().length(32),
    amount: p.bigint(),
    fee: p.bigint().nullable(),
    paidAt: p.datetime(),
    rawPayload: p.text(),
    reason: p.string().length(16),
    detail: p.string().length(255),
    state: p.string().length(16),
    attempts: p.integer(),
    nextAttemptAt: p.datetime(),
    receivedAt: p.datetime(),
    resolvedAt: p.datetime().nullable(),
    virtualAccountId: p.string().length(40).nullable(),
  }),
  uniques: [{ name: "held_payment_provider_ref_unique", properties: ["provider", "providerAccount", "providerPaymentRef"] }],
  indexes: [{ name: "held_payment_due_idx", properties: ["state", "nextAttemptAt"] }],
});
export type HeldPaymentRow = InferEntity<typeof HeldPaymentRow>;

export const ENTITIES = [
  VirtualAccountRow,
  PaymentRow,
  EventRow,
  IdempotencyRow,
  SnapExternalIdRow,
  BillerInquiryRow,
  HeldPaymentRow,
];
