import { DomainError } from "../domain/errors.js";
import type { HeldPayment, ReportedPayment } from "../domain/payment.js";
import type { Store } from "../persistence/store.js";
import type { Belief, RecordingResult, RequestIdGuard, VaProvider } from "../providers/provider.js";
import type { PaymentRecorder } from "./payments.js";
import type { ProviderRegistry } from "./provider-registry.js";

export interface CallbackIntakeOptions {
  /** How long a callback waits for the provider to confirm it before it is held instead. */
  confirmTimeoutMs: number;
  /** Pause before a held payment is looked at again; doubles per attempt up to `maxRetryDelayMs`. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  batchSize: number;
}

export interface HeldReview {
  reviewed: number;
  recorded: number;
  refuted: number;
}

/**
 * What happens to a payment callback once its adapter has read it. A callback we can believe (signed
 * over the exact bytes, fresh) is recorded. One we cannot (stale, unsigned, amount unexpected…) is
 * confirmed through the provider's own API first: recorded as the provider states it, refused only
 * when the provider denies it, and held (persisted, answered as received) when the provider cannot
 * tell now. Nothing is recorded unconfirmed, and nothing the provider may have taken money for is
 * answered with a refusal. Held payments are reviewed in the background until resolved.
 */
export class CallbackIntake {
  constructor(
    private readonly store: Store,
    private readonly providers: ProviderRegistry,
    private readonly recorder: PaymentRecorder,
    private readonly clock: () => Date,
    private readonly options: CallbackIntakeOptions,
  ) {}

  async receive(
    provider: VaProvider,
    report: ReportedPayment,
    belief: Belief,
    guard: RequestIdGuard | undefined,
  ): Promise<RecordingResult> {
    // Scoped by provider: the table is shared with the biller flow, whose banks may use the same partner ids.
    const scoped = guard && { ...guard, scope: `${provider.name}:${guard.scope}` };
    if (scoped && (await this.store.snapExternalIds.claim(scoped, this.clock())) === "CONFLICT") return "ID_REUSED";
    if (belief.verified) return this.recorder.record(provider.name, report, "CALLBACK");
    if (await this.store.payments.isRecorded(provider.name, report)) return "DUPLICATE";
    const confirmation = await this.confirm(provider, report, this.clock()).catch(() => undefined);
    if (confirmation === undefined) {
      const detail = `${belief.doubt}; the provider could not confirm it yet`;
      await this.store.transaction((tx) =>
        tx.heldPayments.hold(this.recorder.held(provider.name, report, "UNCONFIRMED", detail)),
      );
      return "HELD";
    }
    if (!confirmation.paid) return "REFUTED";
    return this.recorder.record(provider.name, confirmation.notification, "CALLBACK");
  }

  /** Looks again at held payments that are due: confirms, matches, records or refutes them. */
  async reviewHeld(): Promise<HeldReview> {
    const due = await this.store.heldPayments.findDue(this.clock(), this.options.batchSize);
    const review: HeldReview = { reviewed: due.length, recorded: 0, refuted: 0 };
    for (const held of due) {
      const outcome = await this.review(held).catch(() => "STILL_HELD" as const);
      if (outcome === "RECORDED") review.recorded++;
      if (outcome === "REFUTED") review.refuted++;
    }
    return review;
  }

  private async review(held: HeldPayment): Promise<"RECORDED" | "REFUTED" | "STILL_HELD"> {
    let report = held.payment;
    if (held.reason === "UNCONFIRMED") {
      const provider = this.providers.find(held.provider)?.adapter;
      const confirmation = provider ? await this.confirm(provider, report, held.receivedAt).catch(() => undefined) : undefined;
      if (confirmation?.paid === false) {
        await this.resolve(held, "REFUTED", confirmation.reason);
        return "REFUTED";
      }
      if (confirmation === undefined) {
        await this.postpone(held, held.detail);
        return "STILL_HELD";
      }
      report = confirmation.notification;
    }
    const recorded = await this.store.transaction(async (tx) => {
      const outcome = await this.recorder.recordIn(tx, held.provider, report, "CALLBACK");
      if (outcome === "UNKNOWN_VIRTUAL_ACCOUNT") return outcome;
      // DUPLICATE: recorded meanwhile by a callback retry or the reconciler; only the hold is left.
      const current = await tx.heldPayments.lock(held.provider, held.payment);
      const virtualAccountId = await tx.payments.virtualAccountIdOf(held.provider, report);
      if (current?.state === "HELD") {
        await tx.heldPayments.update({ ...current, state: "RECORDED", resolvedAt: this.clock(), virtualAccountId });
      }
      return outcome;
    });
    if (recorded !== "UNKNOWN_VIRTUAL_ACCOUNT") return "RECORDED";
    await this.postpone(
      { ...held, reason: "UNMATCHED", payment: report },
      "confirmed by the provider; no virtual account matches it",
    );
    return "STILL_HELD";
  }

  private async confirm(provider: VaProvider, report: ReportedPayment, firstSeenAt: Date) {
    if (!provider.confirmPayment) {
      throw new DomainError("UNAVAILABLE", `${provider.name} has no API to confirm a payment`);
    }
    return provider.confirmPayment(report, AbortSignal.timeout(this.options.confirmTimeoutMs), { firstSeenAt });
  }

  private async postpone(held: HeldPayment, detail: string): Promise<void> {
    const attempts = held.attempts + 1;
    const delay = Math.min(this.options.retryDelayMs * 2 ** attempts, this.options.maxRetryDelayMs);
    const nextAttemptAt = new Date(this.clock().getTime() + delay);
    await this.store.transaction((tx) => tx.heldPayments.update({ ...held, attempts, nextAttemptAt, detail }));
  }

  private async resolve(held: HeldPayment, state: "REFUTED", detail: string): Promise<void> {
    await this.store.transaction((tx) => tx.heldPayments.update({ ...held, state, detail, resolvedAt: this.clock() }));
  }
}
