import type { VirtualAccount } from "../domain/virtual-account.js";
import type { Store } from "../persistence/store.js";
import type { VaProvider } from "../providers/provider.js";
import type { PaymentRecorder } from "./payments.js";
import type { ProviderRegistry } from "./provider-registry.js";

export interface ReconcilerOptions {
  /** Start polling an open VA this long before it expires. */
  beforeExpiryMs: number;
  /** Keep polling an expired VA this long after its expiry (late payments, lost callbacks). */
  afterExpiryMs: number;
  /** First pause between polls of one VA; doubles after each poll up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  batchSize: number;
  providerTimeoutMs: number;
}

/**
 * Finds payments whose callback never reached us by asking the provider's status API about VAs
 * near or just past their expiry, with per-VA exponential backoff. Whatever it finds goes through
 * the same exactly-once recording as a callback, so several replicas polling the same VA cannot
 * record anything twice; at worst they ask the provider twice.
 */
export class PaymentReconciler {
  private readonly schedule = new Map<string, { polls: number; nextAt: number }>();

  constructor(
    private readonly store: Store,
    private readonly providers: ProviderRegistry,
    private readonly recorder: PaymentRecorder,
    private readonly clock: () => Date,
    private readonly options: ReconcilerOptions,
  ) {}

  /** Returns how many VAs were polled and how many payments were newly recorded. */
  async runOnce(): Promise<{ polled: number; recorded: number }> {
    const { beforeExpiryMs, afterExpiryMs, batchSize } = this.options;
    const now = this.clock().getTime();
    const candidates = await this.store.virtualAccounts.findToReconcile(new Date(now), beforeExpiryMs, afterExpiryMs, batchSize);
    let polled = 0;
    let recorded = 0;
    for (const va of candidates) {
      const due = (this.schedule.get(va.id)?.nextAt ?? 0) <= now;
      const adapter = this.providers.find(va.provider)?.adapter;
      if (!due || !adapter?.fetchPayments) continue;
      polled++;
      this.reschedule(va, now);
      recorded += await this.poll(va, adapter.fetchPayments.bind(adapter)).catch(() => 0);
    }
    this.forgetFinished(candidates);
    return { polled, recorded };
  }

  private async poll(va: VirtualAccount, fetchPayments: NonNullable<VaProvider["fetchPayments"]>): Promise<number> {
    const ref = {
      providerAccount: va.providerAccount,
      providerReference: va.providerReference,
      vaNumber: va.vaNumber,
      bankCode: va.bankCode,
    };
    const payments = await fetchPayments(ref, AbortSignal.timeout(this.options.providerTimeoutMs));
    let recorded = 0;
    for (const payment of payments) {
      if ((await this.recorder.record(va.provider, payment, "STATUS_POLL")) === "RECORDED") recorded++;
    }
    return recorded;
  }

  private reschedule(va: VirtualAccount, now: number): void {
    const polls = (this.schedule.get(va.id)?.polls ?? 0) + 1;
    const delay = Math.min(this.options.baseDelayMs * 2 ** (polls - 1), this.options.maxDelayMs);
    this.schedule.set(va.id, { polls, nextAt: now + delay });
  }

  /** Drops backoff state of VAs that left the window, so the map cannot grow without bound. */
  private forgetFinished(candidates: VirtualAccount[]): void {
    if (this.schedule.size <= candidates.length * 2) return;
    const current = new Set(candidates.map((va) => va.id));
    for (const id of this.schedule.keys()) if (!current.has(id)) this.schedule.delete(id);
  }
}
