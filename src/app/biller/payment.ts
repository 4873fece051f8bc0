import { createHash } from "node:crypto";
import type { Rupiah } from "../../domain/money.js";
import type { VirtualAccount } from "../../domain/virtual-account.js";
import type { Logger } from "../../logging.js";
import type { BillerInquiries, BillerInquiryKey } from "../../persistence/repositories/biller-inquiries.js";
import type { Store, StoreTransaction } from "../../persistence/store.js";
import type { BankOutcome, BankPaymentRequest, BillerProvider, KeptAnswer } from "../../providers/biller.js";
import type { PaymentNotification } from "../../providers/provider.js";
import type { PaymentRecorder } from "../payments.js";
import { inTransaction, lockBill, Refusal } from "./bank-request.js";
import { billStateProblem, paymentAmountProblem, quote } from "./bill.js";

export interface BankPaymentsOptions {
  store: Store;
  recorder: PaymentRecorder;
  provider: Pick<BillerProvider, "name" | "providerAccount" | "registersAtBank">;
  log: Logger;
}

/**
 * A bank tells us of the payment of an inquiry (its `paymentRequestId` is the `inquiryRequestId`)
 * within the inquiry's timer, for the quoted amount, recorded once; or, for a VA registered at the
 * bank, of a payment naming it by `trxId` without an inquiry (§2.6). A repeat gets the original
 * answer, byte for byte.
 */
export class BankPayments {
  constructor(private readonly options: BankPaymentsOptions) {}

  receive(payment: BankPaymentRequest): Promise<BankOutcome> {
    const { store, provider } = this.options;
    const now = payment.receivedAt;
    const key = { partnerId: payment.partnerId, inquiryRequestId: payment.paymentRequestId };
    const fingerprint = createHash("sha256").update(`${payment.vaNumber}\u0000${payment.paidAmount}`).digest("hex");
    /** The answer this payment already got, when it is the same payment (number and amount). */
    const earlierAnswer = async (inquiries: BillerInquiries): Promise<KeptAnswer | undefined> => {
      const inquiry = await inquiries.lock(key);
      if (inquiry?.paymentAnswer === undefined || inquiry.paymentFingerprint !== fingerprint) return undefined;
      return { status: inquiry.paymentStatus, body: inquiry.paymentAnswer };
    };

    return inTransaction(store, async (tx) => {
      if (payment.doubt !== undefined) {
        // Nothing new is believed from a stale request; the Inquiry Status poller settles the rest.
        const answered = await earlierAnswer(tx.billerInquiries);
        if (answered) return answered;
        throw new Refusal("STALE", payment.doubt);
      }
      const claim = await tx.snapExternalIds.claim(payment.requestIdGuard, now);
      if (claim === "CONFLICT") {
        // The bank's retry of a payment we answered, with only its advice fields changed (flagAdvise
        // "Y"): refusing it would make the bank reverse a debit we recorded.
        const answered = await earlierAnswer(tx.billerInquiries);
        if (answered) return answered;
        throw new Refusal("REQUEST_ID_REUSED", "X-EXTERNAL-ID reused for another request");
      }
      const inquiry = await tx.billerInquiries.lock(key);
      if (!inquiry) return this.payRegistered(tx, payment, key, fingerprint, now);
      if (!payment.sameNumber(inquiry.virtualAccountNo)) {
        await lockBill(tx, provider, payment);
        throw new Refusal("NO_SUCH_INQUIRY", "paymentRequestId belongs to an inquiry of another VA");
      }
      if (inquiry.paymentAnswer !== undefined) {
        if (inquiry.paymentFingerprint !== fingerprint) {
          throw new Refusal("WRONG_AMOUNT", "paymentRequestId already paid with another amount");
        }
        return { status: inquiry.paymentStatus, body: inquiry.paymentAnswer };
      }
      const va = await lockBill(tx, provider, payment);
      if (va.id !== inquiry.virtualAccountId) throw new Refusal("NUMBER_REASSIGNED", "VA number now belongs to another VA");
      let expected = inquiry.amount;
      if (inquiry.state === "PAID") {
        // Already recorded from the bank's Inquiry Status; this is the bank's late notification.
        expected = inquiry.paidAmount ?? inquiry.amount;
      } else if (inquiry.state !== "INQUIRED" || now.getTime() > inquiry.payBy.getTime()) {
        // The reconciler may have recorded it from the bank's Inquiry Status already: then this is the
        // bank's late notification of money we hold, and refusing it could make the bank reverse it.
        const recordedOn = await tx.payments.virtualAccountIdOf(provider.name, {
          providerAccount: provider.providerAccount,
          providerPaymentRef: payment.paymentRequestId,
        });
        if (recordedOn !== va.id) throw new Refusal("INQUIRY_EXPIRED", `inquiry timer elapsed (${inquiry.state})`);
      } else {
        const problem = billStateProblem(va, now);
        if (problem) throw Refusal.of(problem);
      }
      const amountProblem = paymentAmountProblem(va, expected, payment.paidAmount);
      if (amountProblem) throw Refusal.of(amountProblem);
      const answer = await this.record(tx, payment, va, inquiry.paidAt ?? now, inquiry.amount);
      await tx.billerInquiries.update(key, {
        state: "PAID",
        paymentFingerprint: fingerprint,
        paymentStatus: answer.status,
        paymentAnswer: answer.body,
        paidAmount: payment.paidAmount,
        paidAt: inquiry.paidAt ?? now,
      });
      return answer;
    });
  }

  /**
   * A payment no inquiry preceded. Accepted only for a VA the bank holds because we registered it
   * (Create VA, 27) and only when it names that VA by our `trxId` (§2.6: "mandatory if Payment comes
   * from the Create VA request"); anything else has no bill behind it.
   */
  private async payRegistered(
    tx: StoreTransaction,
    payment: BankPaymentRequest,
    key: BillerInquiryKey,
    fingerprint: string,
    now: Date,
  ): Promise<KeptAnswer> {
    const { provider } = this.options;
    const va = await lockBill(tx, provider, payment);
    if (!provider.registersAtBank || payment.trxId === undefined || payment.trxId !== va.providerReference) {
      throw new Refusal("NO_SUCH_INQUIRY", "no inquiry with this paymentRequestId and no registered trxId");
    }
    const problem = billStateProblem(va, now);
    if (problem) throw Refusal.of(problem);
    const amountProblem = paymentAmountProblem(va, undefined, payment.paidAmount);
    if (amountProblem) throw Refusal.of(amountProblem);
    const answer = await this.record(tx, payment, va, now, undefined);
    // Kept like an inquiry's payment, so a repeat gets this answer and the timer never runs.
    await tx.billerInquiries.insert({
      ...key,
      virtualAccountId: va.id,
      virtualAccountNo: payment.virtualAccountNo,
      amount: payment.paidAmount,
      state: "PAID",
      inquiredAt: now,
      payBy: now,
      inquiryAnswer: "",
      paymentFingerprint: fingerprint,
      paymentStatus: answer.status,
      paymentAnswer: answer.body,
      paidAmount: payment.paidAmount,
      paidAt: now,
      statusChecks: 0,
      statusCheckedAt: undefined,
    });
    return answer;
  }

  /** Records the bank's payment on its VA (exactly once) and builds the answer confirming it. */
  private async record(
    tx: StoreTransaction,
    payment: BankPaymentRequest,
    va: VirtualAccount,
    paidAt: Date,
    quoted: Rupiah | undefined,
  ): Promise<KeptAnswer> {
    const { provider, recorder, log } = this.options;
    const notification: PaymentNotification = {
      providerAccount: provider.providerAccount,
      providerPaymentRef: payment.paymentRequestId,
      vaNumber: payment.vaNumber,
      providerVaId: va.providerVaId,
      amount: payment.paidAmount,
      fee: undefined,
      paidAt,
      rawPayload: payment.rawPayload,
    };
    const recorded = await recorder.recordIn(tx, provider.name, notification, "CALLBACK");
    if (recorded === "UNKNOWN_VIRTUAL_ACCOUNT") throw new Error("VA disappeared while locked");
    const shown = quote(va, quoted);
    log.info(
      { provider: provider.name, virtualAccountId: va.id, paymentRequestId: payment.paymentRequestId, result: recorded },
      "bank payment",
    );
    return payment.paidAnswer({ va, totalAmount: shown.ok ? shown.totalAmount : undefined });
  }
}
