import type { Rupiah } from "./money.js";
import { isOpenForPayment, type VaStatus, type VirtualAccount } from "./virtual-account.js";

export type PaymentOutcome = "ACCEPTED" | "UNDERPAID" | "OVERPAID" | "LATE" | "REPEATED";

export interface Payment {
  id: string;
  tenantId: string;
  virtualAccountId: string;
  provider: string;
  providerAccount: string;
  providerPaymentRef: string;
  amount: Rupiah;
  fee: Rupiah | undefined;
  outcome: PaymentOutcome;
  paidAt: Date;
  recordedAt: Date;
  /** The provider's notification as received, kept for audit. */
  rawPayload: string;
}

/** A payment as a provider reports it, by callback or through its status API. */
export interface ReportedPayment {
  providerAccount: string;
  /** The provider's unique reference of this payment: the dedupe key with provider + account. */
  providerPaymentRef: string;
  vaNumber: string;
  amount: Rupiah;
  fee: Rupiah | undefined;
  paidAt: Date;
  /** The body as received, for audit. */
  rawPayload: string;
  /** The provider's own identity of the VA when the report names one: matched before the number. */
  providerVaId?: string | undefined;
}

/**
 * Why a reported payment is held instead of recorded: UNCONFIRMED until the provider's API confirms
 * a callback we could not believe on its face; UNMATCHED while it matches no VA of ours.
 */
export type HoldReason = "UNCONFIRMED" | "UNMATCHED";
/** HELD until resolved: RECORDED on a VA, or REFUTED by the provider's own API. */
export type HeldState = "HELD" | "RECORDED" | "REFUTED";

export interface HeldPayment {
  id: string;
  provider: string;
  payment: ReportedPayment;
  reason: HoldReason;
  /** Why it is held, for operators (never a secret). */
  detail: string;
  state: HeldState;
  attempts: number;
  nextAttemptAt: Date;
  receivedAt: Date;
  resolvedAt: Date | undefined;
  virtualAccountId: string | undefined;
}

/** What one payment does to its VA. */
export interface PaymentEffect {
  outcome: PaymentOutcome;
  status: VaStatus;
  paidAmount: Rupiah;
  paymentCount: number;
}

const settles = (outcome: PaymentOutcome) => outcome === "ACCEPTED" || outcome === "OVERPAID";

/**
 * Decides the outcome of money that has arrived. Money is never refused here: the provider already
 * took it, so every payment is recorded and only its outcome differs.
 */
export function applyPayment(va: VirtualAccount, amount: Rupiah, paidAt: Date): PaymentEffect {
  const outcome = classify(va, amount, paidAt);
  const paymentCount = va.paymentCount + 1;
  if (!settles(outcome)) return { outcome, status: va.status, paidAmount: va.paidAmount, paymentCount };
  return {
    outcome,
    status: va.usage === "SINGLE" ? "COMPLETED" : "PAID",
    paidAmount: va.paidAmount + amount,
    paymentCount,
  };
}

function classify(va: VirtualAccount, amount: Rupiah, paidAt: Date): PaymentOutcome {
  if (va.status === "COMPLETED") return "REPEATED";
  if (!isOpenForPayment(va.status) || paidAt.getTime() > va.expiresAt.getTime()) return "LATE";
  const rule = va.amount;
  switch (rule.type) {
    case "FIXED":
      return amount < rule.amount ? "UNDERPAID" : amount > rule.amount ? "OVERPAID" : "ACCEPTED";
    case "RANGE":
      return amount < rule.min ? "UNDERPAID" : amount > rule.max ? "OVERPAID" : "ACCEPTED";
    case "OPEN":
      return "ACCEPTED";
  }
}
