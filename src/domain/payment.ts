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
