import type { EventCause } from "../domain/event.js";
import { newId } from "../domain/ids.js";
import { applyPayment, type HeldPayment, type Payment, type ReportedPayment } from "../domain/payment.js";
import type { VirtualAccount } from "../domain/virtual-account.js";
import type { Store, StoreTransaction } from "../persistence/store.js";

/** RECORDED / DUPLICATE: on its VA; HELD: matches no VA of ours yet, kept as a held payment. */
export type Recorded = "RECORDED" | "DUPLICATE" | "HELD";

/**
 * Records money a provider reports. Exactly once: the payment row is unique on (provider, provider
 * account, provider payment reference) on every database, and the VA change and its event are
 * written in the same transaction as that row, or not at all. A payment that matches no VA is held
 * (never dropped) and recorded once a VA matches it.
 */
export class PaymentRecorder {
  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
    /** When a newly held payment is first looked at again. */
    private readonly retryDelayMs = 60_000,
  ) {}

  record(provider: string, report: ReportedPayment, cause: EventCause): Promise<Recorded> {
    return this.store.transaction(async (tx) => {
      const recorded = await this.recordIn(tx, provider, report, cause);
      if (recorded !== "UNKNOWN_VIRTUAL_ACCOUNT") return recorded;
      await tx.heldPayments.hold(this.held(provider, report, "UNMATCHED", "no virtual account matches it"));
      return "HELD";
    });
  }

  /** A report kept for later: confirmation with the provider or a VA to match. */
  held(provider: string, report: ReportedPayment, reason: HeldPayment["reason"], detail: string): HeldPayment {
    const now = this.clock();
    return {
      id: newId("held"),
      provider,
      payment: report,
      reason,
      detail,
      state: "HELD",
      attempts: 0,
      nextAttemptAt: new Date(now.getTime() + this.retryDelayMs),
      receivedAt: now,
      resolvedAt: undefined,
      virtualAccountId: undefined,
    };
  }

  /** The same, inside a transaction the caller already holds (e.g. with other work it protects). */
  async recordIn(
    tx: StoreTransaction,
    provider: string,
    report: ReportedPayment,
    cause: EventCause,
  ): Promise<"RECORDED" | "DUPLICATE" | "UNKNOWN_VIRTUAL_ACCOUNT"> {
    const va = await tx.virtualAccounts.lockForPayment(provider, report);
    if (!va) return "UNKNOWN_VIRTUAL_ACCOUNT";
    const effect = applyPayment(va, report.amount, report.paidAt);
    const recordedAt = this.clock();
    const payment: Payment = {
      id: newId("pay"),
      tenantId: va.tenantId,
      virtualAccountId: va.id,
      provider,
      providerAccount: report.providerAccount,
      providerPaymentRef: report.providerPaymentRef,
      amount: report.amount,
      fee: report.fee,
      outcome: effect.outcome,
      paidAt: report.paidAt,
      recordedAt,
      rawPayload: report.rawPayload,
    };
    if (!(await tx.payments.insertIfNew(payment))) return "DUPLICATE";
    const updated: VirtualAccount = {
      ...va,
      status: effect.status,
      paidAmount: effect.paidAmount,
      paymentCount: effect.paymentCount,
      updatedAt: recordedAt,
    };
    // A held copy of this payment (if any) is marked recorded at its next review, off this hot path.
    await tx.saveChange(updated, "PAYMENT_RECEIVED", cause, payment);
    return "RECORDED";
  }
}
