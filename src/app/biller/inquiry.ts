import type { VirtualAccount } from "../../domain/virtual-account.js";
import type { Logger } from "../../logging.js";
import type { Store } from "../../persistence/store.js";
import type { BankInquiryRequest, BankOutcome, BillerProvider, KeptAnswer } from "../../providers/biller.js";
import { claimRequestId, inTransaction, lockBill, Refusal } from "./bank-request.js";
import { billStateProblem, quote } from "./bill.js";

export interface BankInquiriesOptions {
  store: Store;
  provider: Pick<BillerProvider, "name" | "providerAccount">;
  log: Logger;
  /** The bank's inquiry timer: a payment must follow its inquiry within this. */
  inquiryTimeoutMs: number;
}

/**
 * A bank asks for the bill of one of our VAs before its customer pays: look the bill up, quote it,
 * start the inquiry's timer and answer with the bill. A repeat gets the same answer, the timer not
 * restarted.
 */
export class BankInquiries {
  constructor(private readonly options: BankInquiriesOptions) {}

  receive(inquiry: BankInquiryRequest): Promise<BankOutcome> {
    const { store, provider, log, inquiryTimeoutMs } = this.options;
    const now = inquiry.receivedAt;
    const key = { partnerId: inquiry.partnerId, inquiryRequestId: inquiry.inquiryRequestId };

    return inTransaction(store, async (tx) => {
      await claimRequestId(tx, inquiry.requestIdGuard, now);
      const replay = async (): Promise<KeptAnswer | undefined> => {
        const earlier = await tx.billerInquiries.lock(key);
        if (!earlier) return undefined;
        if (!inquiry.sameNumber(earlier.virtualAccountNo)) {
          throw new Refusal("INQUIRY_ID_REUSED", "inquiryRequestId already used for another VA");
        }
        return { status: undefined, body: earlier.inquiryAnswer };
      };
      const earlierAnswer = await replay();
      if (earlierAnswer) return earlierAnswer;

      const va = await lockBill(tx, provider, inquiry);
      const problem = billStateProblem(va, now);
      if (problem) throw Refusal.of(problem);
      const quoted = quote(va, inquiry.amount);
      if (!quoted.ok) throw Refusal.of(quoted.problem);
      const answer = inquiry.billAnswer({ va, totalAmount: quoted.totalAmount });
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
      log.info({ provider: provider.name, virtualAccountId: va.id, inquiryRequestId: key.inquiryRequestId }, "bank inquiry");
      return answer;
    });
  }
}
