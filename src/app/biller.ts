import { createHash } from "node:crypto";
import type { Rupiah } from "../domain/money.js";
import type { VirtualAccount } from "../domain/virtual-account.js";
import type { Logger } from "../logging.js";
import type { BillerInquiries, BillerInquiryKey } from "../persistence/repositories/biller-inquiries.js";
import type { Store, StoreTransaction } from "../persistence/store.js";
import { snapAnswer, unauthorizedAnswer } from "../protocols/snap/answer.js";
import { externalIdReusedAnswer, type VerifiedSnapRequest } from "../protocols/snap/inbound-request.js";
import { type SnapOutcome, SnapService } from "../protocols/snap/response-code.js";
import { jakartaDay } from "../protocols/snap/timestamp.js";
import { payerDigits } from "../protocols/snap/va-number.js";
import type { HttpAnswer, InboundHttpRequest, PaymentNotification } from "../providers/provider.js";
import type { SnapBillerProvider } from "../providers/snap-biller/adapter.js";
import {
  billAdditionalInfo,
  billName,
  billStateProblem,
  paymentAmountProblem,
  quote,
  trxTypeOf,
} from "../providers/snap-biller/bill.js";
import {
  type BillerIdentity,
  BillerOutcomes,
  inquiryAnswer,
  numberDigits,
  type PaymentRequest,
  paddedPartnerServiceId,
  paymentAnswer,
  readInquiryRequest,
  readPaymentRequest,
  SNAP_BILLER,
} from "../providers/snap-biller/wire.js";
import { PaymentRecorder } from "./payments.js";

/**
 * The SNAP "biller" flow (providers.md §3, DANA's): banks call our Inquiry (24) and Payment (25)
 * for VAs we host under our own BIN. Each request is one transaction that claims its X-EXTERNAL-ID,
 * does the work and stores the answer, or does nothing at all: a refused or failed request leaves
 * no trace, so neither its X-EXTERNAL-ID nor anything else is burnt.
 */

export interface BillerServiceOptions {
  store: Store;
  provider: SnapBillerProvider;
  clock: () => Date;
  log: Logger;
  /** DANA's inquiry timer: a payment must follow its inquiry within this. */
  inquiryTimeoutMs: number;
}

export type BillerRoute = "accessToken" | "inquiry" | "payment";

/** A request we answer with a SNAP refusal; thrown inside the transaction so it rolls back. */
class Refusal extends Error {
  constructor(
    readonly answer: HttpAnswer,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const refuse = (outcome: SnapOutcome, serviceCode: string, reason: string, message = outcome.message) =>
  new Refusal(snapAnswer(outcome, serviceCode, message), reason);

const jsonAnswer = (status: number, body: string): HttpAnswer => ({ status, contentType: "application/json", body });

export class BillerService {
  constructor(private readonly options: BillerServiceOptions) {}

  handle(route: BillerRoute, request: InboundHttpRequest): Promise<HttpAnswer> {
    switch (route) {
      case "accessToken":
        return Promise.resolve(this.options.provider.issueAccessToken(request));
      case "inquiry":
        return this.inquiry(request);
      case "payment":
        return this.payment(request);
    }
  }

  /** Service 24: look the bill up, start the timer, answer `2002400` with the bill. */
  async inquiry(request: InboundHttpRequest): Promise<HttpAnswer> {
    const svc = SnapService.vaInquiry;
    const { provider, clock, inquiryTimeoutMs } = this.options;
    const now = clock();
    const verdict = await provider.verifyInbound(request, svc, now);
    if (!verdict.ok) return this.refused(svc, verdict.answer, verdict.reason);
    const reading = readInquiryRequest(request.rawBody);
    if (!reading.ok) return this.refused(svc, reading.answer, reading.reason);
    const inquiry = reading.value;
    const key = { partnerId: verdict.request.partnerId, inquiryRequestId: inquiry.inquiryRequestId };

    return this.inTransaction(svc, async (tx) => {
      await this.claim(tx, verdict.request, svc, now);
      const replay = async () => {
        const earlier = await tx.billerInquiries.lock(key);
        if (!earlier) return undefined;
        if (numberDigits(earlier.virtualAccountNo) !== numberDigits(inquiry.virtualAccountNo)) {
          throw refuse(BillerOutcomes.inconsistentRequest, svc, "inquiryRequestId already used for another VA");
        }
        // The bank asking again: the same answer, the timer not restarted.
        return jsonAnswer(200, earlier.inquiryAnswer);
      };
      const earlierAnswer = await replay();
      if (earlierAnswer) return earlierAnswer;

      const va = await this.findBill(tx, inquiry, svc);
      const problem = billStateProblem(va, now);
      if (problem) throw refuse(problem.outcome, svc, problem.reason, problem.message);
      const quoted = quote(va, inquiry.amount);
      if (!quoted.ok) throw refuse(quoted.problem.outcome, svc, quoted.problem.reason, quoted.problem.message);
      const answer = inquiryAnswer({
        identity: inquiry,
        virtualAccountName: billName(va),
        inquiryRequestId: inquiry.inquiryRequestId,
        totalAmount: quoted.totalAmount,
        trxType: trxTypeOf(va),
        additionalInfo: billAdditionalInfo(va),
      });
      const inserted = await tx.billerInquiries.insert({
        ...key,
        virtualAccountId: va.id,
        virtualAccountNo: inquiry.virtualAccountNo,
        amount: quoted.quoted,
        state: "INQUIRED",
        inquiredAt: now,
        payBy: new Date(now.getTime() + inquiryTimeoutMs),
        inquiryAnswer: answer.body,
        paymentFingerprint: undefined,
        paymentStatus: undefined,
        paymentAnswer: undefined,
        paidAmount: undefined,
        paidAt: undefined,
        statusChecks: 0,
        statusCheckedAt: undefined,
      });
      if (!inserted) {
        // The same inquiry, sent twice at once: the other one committed first.
        const raced = await replay();
        if (raced) return raced;
        throw new Error("inquiry vanished after a conflicting insert");
      }
      const inquired: VirtualAccount = { ...va, status: va.status === "ACTIVE" ? "INQUIRED" : va.status, updatedAt: now };
      await tx.saveChange(inquired, "VIRTUAL_ACCOUNT_INQUIRED", "CALLBACK");
      this.options.log.info(
        { provider: SNAP_BILLER, virtualAccountId: va.id, inquiryRequestId: key.inquiryRequestId },
        "bank inquiry",
      );
      return answer;
    });
  }

  /**
   * Service 25: the payment of an inquiry (`paymentRequestId == inquiryRequestId`) within its
   * timer, for the quoted amount, recorded once; or, for a VA registered at the bank, a payment
   * naming it by `trxId` without an inquiry (§2.6). A repeat gets the original answer, byte for byte.
   */
  async payment(request: InboundHttpRequest): Promise<HttpAnswer> {
    const svc = SnapService.vaPayment;
    const { provider, clock } = this.options;
    const now = clock();
    // A correctly signed but stale request may be the bank's late advice of a payment we answered.
    const verdict = await provider.verifyInbound(request, svc, now, { staleIsDoubt: true });
    if (!verdict.ok) return this.refused(svc, verdict.answer, verdict.reason);
    const reading = readPaymentRequest(request.rawBody);
    if (!reading.ok) return this.refused(svc, reading.answer, reading.reason);
    const payment = reading.value;
    const key = { partnerId: verdict.request.partnerId, inquiryRequestId: payment.paymentRequestId };
    const fingerprint = createHash("sha256")
      .update(`${numberDigits(payment.virtualAccountNo)}\u0000${payment.paidAmount}`)
      .digest("hex");
    /** The answer this payment already got, when it is the same payment (number and amount). */
    const earlierAnswer = async (inquiries: BillerInquiries) => {
      const inquiry = await inquiries.lock(key);
      if (inquiry?.paymentAnswer === undefined || inquiry.paymentFingerprint !== fingerprint) return undefined;
      return jsonAnswer(inquiry.paymentStatus ?? 200, inquiry.paymentAnswer);
    };

    return this.inTransaction(svc, async (tx) => {
      const { doubt, requestIdGuard } = verdict.request;
      if (doubt !== undefined) {
        // Nothing new is believed from a stale request; the Inquiry Status poller settles the rest.
        const answered = await earlierAnswer(tx.billerInquiries);
        if (answered) return answered;
        throw new Refusal(unauthorizedAnswer(svc, "Stale Timestamp"), doubt);
      }
      const claim = await tx.snapExternalIds.claim(requestIdGuard, now);
      if (claim === "CONFLICT") {
        // The bank's retry of a payment we answered, with only its advice fields changed (flagAdvise
        // "Y"): refusing it would make the bank reverse a debit we recorded.
        const answered = await earlierAnswer(tx.billerInquiries);
        if (answered) return answered;
        throw new Refusal(externalIdReusedAnswer(svc), "X-EXTERNAL-ID reused for another request");
      }
      const inquiry = await tx.billerInquiries.lock(key);
      if (!inquiry) return this.payRegistered(tx, request, payment, key, fingerprint, now);
      if (numberDigits(inquiry.virtualAccountNo) !== numberDigits(payment.virtualAccountNo)) {
        await this.findBill(tx, payment, svc);
        throw refuse(BillerOutcomes.transactionNotFound, svc, "paymentRequestId belongs to an inquiry of another VA");
      }
      if (inquiry.paymentAnswer !== undefined) {
        if (inquiry.paymentFingerprint !== fingerprint) {
          throw refuse(BillerOutcomes.invalidAmount, svc, "paymentRequestId already paid with another amount");
        }
        return jsonAnswer(inquiry.paymentStatus ?? 200, inquiry.paymentAnswer);
      }
      const va = await this.findBill(tx, payment, svc);
      if (va.id !== inquiry.virtualAccountId)
        throw refuse(BillerOutcomes.invalidBill, svc, "VA number now belongs to another VA");
      let expected = inquiry.amount;
      if (inquiry.state === "PAID") {
        // Already recorded from the bank's Inquiry Status; this is the bank's late notification.
        expected = inquiry.paidAmount ?? inquiry.amount;
      } else if (inquiry.state !== "INQUIRED" || now.getTime() > inquiry.payBy.getTime()) {
        // The reconciler may have recorded it from the bank's Inquiry Status already: then this is the
        // bank's late notification of money we hold, and refusing it could make the bank reverse it.
        const recordedOn = await tx.payments.virtualAccountIdOf(SNAP_BILLER, {
          providerAccount: this.options.provider.providerAccount,
          providerPaymentRef: payment.paymentRequestId,
        });
        if (recordedOn !== va.id)
          throw refuse(BillerOutcomes.transactionExpired, svc, `inquiry timer elapsed (${inquiry.state})`);
      } else {
        const problem = billStateProblem(va, now);
        if (problem) throw refuse(problem.outcome, svc, problem.reason, problem.message);
      }
      const amountProblem = paymentAmountProblem(va, expected, payment.paidAmount);
      if (amountProblem) throw refuse(amountProblem.outcome, svc, amountProblem.reason, amountProblem.message);
      const answer = await this.record(tx, request, payment, va, inquiry.paidAt ?? now, inquiry.amount);
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
   * from the Create VA request"); anything else has no bill behind it: `404xx01`.
   */
  private async payRegistered(
    tx: StoreTransaction,
    request: InboundHttpRequest,
    payment: PaymentRequest,
    key: BillerInquiryKey,
    fingerprint: string,
    now: Date,
  ): Promise<HttpAnswer> {
    const svc = SnapService.vaPayment;
    const va = await this.findBill(tx, payment, svc);
    if (!this.options.provider.registersAtBank || payment.trxId === undefined || payment.trxId !== va.providerReference) {
      throw refuse(BillerOutcomes.transactionNotFound, svc, "no inquiry with this paymentRequestId and no registered trxId");
    }
    const problem = billStateProblem(va, now);
    if (problem) throw refuse(problem.outcome, svc, problem.reason, problem.message);
    const amountProblem = paymentAmountProblem(va, undefined, payment.paidAmount);
    if (amountProblem) throw refuse(amountProblem.outcome, svc, amountProblem.reason, amountProblem.message);
    const answer = await this.record(tx, request, payment, va, now, undefined);
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

  /** Records the bank's payment on its VA (exactly once) and builds the `2002500` answer. */
  private async record(
    tx: StoreTransaction,
    request: InboundHttpRequest,
    payment: PaymentRequest,
    va: VirtualAccount,
    paidAt: Date,
    quoted: Rupiah | undefined,
  ): Promise<HttpAnswer> {
    const { provider, store, clock } = this.options;
    const notification: PaymentNotification = {
      providerAccount: provider.providerAccount,
      providerPaymentRef: payment.paymentRequestId,
      vaNumber: numberDigits(payment.virtualAccountNo),
      providerVaId: va.providerVaId,
      amount: payment.paidAmount,
      fee: undefined,
      paidAt,
      rawPayload: request.rawBody.toString("utf8"),
    };
    const recorded = await new PaymentRecorder(store, clock).recordIn(tx, SNAP_BILLER, notification, "CALLBACK");
    if (recorded === "UNKNOWN_VIRTUAL_ACCOUNT") throw new Error("VA disappeared while locked");
    const shown = quote(va, quoted);
    this.options.log.info(
      { provider: SNAP_BILLER, virtualAccountId: va.id, paymentRequestId: payment.paymentRequestId, result: recorded },
      "bank payment",
    );
    return paymentAnswer(payment, billName(va), shown.ok ? shown.totalAmount : undefined);
  }

  /** `409xx00` when the bank already used this X-EXTERNAL-ID today for another request (claimed until commit). */
  private async claim(tx: StoreTransaction, verified: VerifiedSnapRequest, svc: string, now: Date): Promise<void> {
    if ((await tx.snapExternalIds.claim(verified.requestIdGuard, now)) === "CONFLICT") {
      throw new Refusal(externalIdReusedAnswer(svc), "X-EXTERNAL-ID reused for another request");
    }
  }

  /** The VA behind the number, locked; `404xx12` when it is not one of ours. */
  private async findBill(tx: StoreTransaction, identity: BillerIdentity, svc: string): Promise<VirtualAccount> {
    const { provider } = this.options;
    const notFound = () =>
      refuse(BillerOutcomes.invalidBill, svc, "no such VA", `${BillerOutcomes.invalidBill.message} Not Found`);
    if (paddedPartnerServiceId(identity.partnerServiceId) !== provider.partnerServiceId) throw notFound();
    const va = await tx.virtualAccounts.lockByNumber(
      SNAP_BILLER,
      provider.providerAccount,
      numberDigits(identity.virtualAccountNo),
    );
    if (!va) throw notFound();
    return va;
  }

  private async inTransaction(svc: string, work: (tx: StoreTransaction) => Promise<HttpAnswer>): Promise<HttpAnswer> {
    try {
      return await this.options.store.transaction(work);
    } catch (error) {
      if (error instanceof Refusal) return this.refused(svc, error.answer, error.reason);
      // Nothing was kept; the bank retries `500xx01` and may use the same X-EXTERNAL-ID.
      this.options.log.error({ provider: SNAP_BILLER, service: svc, err: error }, "biller request failed");
      return snapAnswer(BillerOutcomes.internalServerError, svc);
    }
  }

  private refused(svc: string, answer: HttpAnswer, reason: string): HttpAnswer {
    this.options.log.warn({ provider: SNAP_BILLER, service: svc, reason, answer: answer.body }, "bank request refused");
    return answer;
  }
}

export interface BillerStatusPollerOptions {
  store: Store;
  provider: SnapBillerProvider;
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
    await store.transaction((tx) => tx.snapExternalIds.forgetBefore(jakartaDay(new Date(now.getTime() - 86_400_000))));
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
        .inquirePaymentStatus({ virtualAccountNo: inquiry.virtualAccountNo, inquiryRequestId: inquiry.inquiryRequestId }, signal)
        .catch((error: unknown) => ({ state: "UNKNOWN" as const, reason: String(error) }));
      const outcome = await store.transaction((tx) => this.settle(tx, inquiry, status, now));
      if (outcome) run[outcome]++;
    }
    return run;
  }

  private async settle(
    tx: StoreTransaction,
    seen: { partnerId: string; inquiryRequestId: string },
    status: Awaited<ReturnType<SnapBillerProvider["inquirePaymentStatus"]>>,
    now: Date,
  ): Promise<keyof StatusRun | undefined> {
    const { store, provider, clock, log } = this.options;
    const key = { partnerId: seen.partnerId, inquiryRequestId: seen.inquiryRequestId };
    const inquiry = await tx.billerInquiries.lock(key);
    if (inquiry?.state !== "INQUIRED") return undefined;
    const checked = { statusChecks: inquiry.statusChecks + 1, statusCheckedAt: now };
    const amount = status.state === "PAID" ? (status.amount ?? inquiry.amount) : undefined;
    if (status.state === "PAID" && amount !== undefined) {
      const paidAt = status.paidAt ?? now;
      const recorded = await new PaymentRecorder(store, clock).recordIn(
        tx,
        SNAP_BILLER,
        {
          providerAccount: provider.providerAccount,
          providerPaymentRef: inquiry.inquiryRequestId,
          vaNumber: payerDigits(inquiry.virtualAccountNo),
          amount,
          fee: undefined,
          paidAt,
          rawPayload: status.rawAnswer,
        },
        "STATUS_POLL",
      );
      await tx.billerInquiries.update(key, { ...checked, state: "PAID", paidAmount: amount, paidAt });
      log.info(
        { provider: SNAP_BILLER, inquiryRequestId: key.inquiryRequestId, result: recorded },
        "bank confirmed a payment we never got",
      );
      return "paid";
    }
    if (status.state === "UNPAID") {
      await tx.billerInquiries.update(key, { ...checked, state: "UNPAID" });
      return "unpaid";
    }
    const reason = status.state === "UNKNOWN" ? status.reason : "paid without an amount";
    const giveUp = checked.statusChecks >= (this.options.maxChecks ?? 10);
    await tx.billerInquiries.update(key, { ...checked, ...(giveUp ? { state: "UNRESOLVED" as const } : {}) });
    (giveUp ? log.error : log.warn).call(
      log,
      { provider: SNAP_BILLER, inquiryRequestId: key.inquiryRequestId, reason },
      "inquiry status inconclusive",
    );
    return "unknown";
  }
}
