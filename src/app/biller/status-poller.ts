import type { Logger } from "../../logging.js";
import type { BillerInquiry } from "../../persistence/repositories/biller-inquiries.js";
import type { Store, StoreTransaction } from "../../persistence/store.js";
import type { BillerProvider, InquiryPaymentStatus } from "../../providers/biller.js";
import type { PaymentRecorder } from "../payments.js";

export interface BillerStatusPollerOptions {
  store: Store;
  recorder: PaymentRecorder;
  provider: Pick<BillerProvider, "name" | "canInquireStatus" | "paymentOfInquiry" | "requestIdDay">;
  clock: () => Date;
  log: Logger;
  /** Ask about an inquiry this long after its timer ran out (a payment may still be on its way). */
  graceMs?: number;
  /** Ask again after an inconclusive answer after this. */
  retryAfterMs?: number;
  /** Inconclusive answers before an inquiry is left UNRESOLVED for a person to look at. */
  maxChecks?: number;
  batchSize?: number;
}

export interface StatusRun {
  paid: number;
  unpaid: number;
  unknown: number;
}

const DAY_MS = 86_400_000;

/**
 * Inquiries whose timer ran out without a payment reaching us: only the bank knows whether it
 * took the money (its payment call may have been lost). Asks the bank (Inquiry Status, 26) and
 * records a payment it confirms, through the same exactly-once path, with cause STATUS_POLL.
 * Also drops X-EXTERNAL-ID rows older than yesterday.
 */
export class BillerStatusPoller {
  constructor(private readonly options: BillerStatusPollerOptions) {}

  async runOnce(signal: AbortSignal = AbortSignal.timeout(60_000)): Promise<StatusRun> {
    const { store, provider, clock } = this.options;
    const now = clock();
    const run: StatusRun = { paid: 0, unpaid: 0, unknown: 0 };
    await store.transaction((tx) => tx.snapExternalIds.forgetBefore(provider.requestIdDay(new Date(now.getTime() - DAY_MS))));
    if (!provider.canInquireStatus) return run;
    const retryAfterMs = this.options.retryAfterMs ?? 60_000;
    const due = await store.billerInquiries.findToResolve(
      now,
      this.options.graceMs ?? 30_000,
      new Date(now.getTime() - retryAfterMs),
      this.options.batchSize ?? 100,
    );
    for (const inquiry of due) {
      if (signal.aborted) break;
      const status = await provider
        .paymentOfInquiry(
          { virtualAccountNo: inquiry.virtualAccountNo, inquiryRequestId: inquiry.inquiryRequestId, amount: inquiry.amount },
          signal,
        )
        .catch((error: unknown): InquiryPaymentStatus => ({ state: "UNKNOWN", reason: String(error) }));
      const outcome = await store.transaction((tx) => this.settle(tx, inquiry, status, now));
      if (outcome) run[outcome]++;
    }
    return run;
  }

  private async settle(
    tx: StoreTransaction,
    seen: BillerInquiry,
    status: InquiryPaymentStatus,
    now: Date,
  ): Promise<keyof StatusRun | undefined> {
    const { recorder, provider, log } = this.options;
    const key = { partnerId: seen.partnerId, inquiryRequestId: seen.inquiryRequestId };
    const inquiry = await tx.billerInquiries.lock(key);
    if (inquiry?.state !== "INQUIRED") return undefined;
    const checked = { statusChecks: inquiry.statusChecks + 1, statusCheckedAt: now };
    if (status.state === "PAID") {
      const { payment } = status;
      const recorded = await recorder.recordIn(tx, provider.name, payment, "STATUS_POLL");
      await tx.billerInquiries.update(key, { ...checked, state: "PAID", paidAmount: payment.amount, paidAt: payment.paidAt });
      log.info(
        { provider: provider.name, inquiryRequestId: key.inquiryRequestId, result: recorded },
        "bank confirmed a payment we never got",
      );
      return "paid";
    }
    if (status.state === "UNPAID") {
      await tx.billerInquiries.update(key, { ...checked, state: "UNPAID" });
      return "unpaid";
    }
    const giveUp = checked.statusChecks >= (this.options.maxChecks ?? 10);
    await tx.billerInquiries.update(key, { ...checked, ...(giveUp ? { state: "UNRESOLVED" as const } : {}) });
    (giveUp ? log.error : log.warn).call(
      log,
      { provider: provider.name, inquiryRequestId: key.inquiryRequestId, reason: status.reason },
      "inquiry status inconclusive",
    );
    return "unknown";
  }
}
