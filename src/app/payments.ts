import type { EventCause } from "../domain/event.js";
import { newId } from "../domain/ids.js";
import { applyPayment, type Payment } from "../domain/payment.js";
import type { VirtualAccount } from "../domain/virtual-account.js";
import type { Store, StoreTransaction } from "../persistence/store.js";
import type { PaymentNotification, RecordingResult } from "../providers/provider.js";

/**
 * Records money a provider reports. Exactly once: the payment row is unique on (provider, provider
 * account, provider payment reference) on every database, and the VA change and its event are
 * written in the same transaction as that row, or not at all.
 */
export class PaymentRecorder {
  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
  ) {}

  record(provider: string, notification: PaymentNotification, cause: EventCause): Promise<RecordingResult> {
    return this.store.transaction((tx) => this.recordIn(tx, provider, notification, cause));
  }

  /** The same, inside a transaction the caller already holds (e.g. with other work it protects). */
  async recordIn(
    tx: StoreTransaction,
    provider: string,
    notification: PaymentNotification,
    cause: EventCause,
  ): Promise<RecordingResult> {
    const va = await tx.lockVirtualAccountByNumber(provider, notification.providerAccount, notification.vaNumber);
    if (!va) return "UNKNOWN_VIRTUAL_ACCOUNT";
    const effect = applyPayment(va, notification.amount, notification.paidAt);
    const recordedAt = this.clock();
    const payment: Payment = {
      id: newId("pay"),
      tenantId: va.tenantId,
      virtualAccountId: va.id,
      provider,
      providerAccount: notification.providerAccount,
      providerPaymentRef: notification.providerPaymentRef,
      amount: notification.amount,
      fee: notification.fee,
      outcome: effect.outcome,
      paidAt: notification.paidAt,
      recordedAt,
      rawPayload: notification.rawPayload,
    };
    if (!(await tx.insertPaymentIfNew(payment))) return "DUPLICATE";
    const updated: VirtualAccount = {
      ...va,
      status: effect.status,
      paidAmount: effect.paidAmount,
      paymentCount: effect.paymentCount,
      updatedAt: recordedAt,
    };
    await tx.saveChange(updated, "PAYMENT_RECEIVED", cause, payment);
    return "RECORDED";
  }
}
