import type { VirtualAccount } from "../../domain/virtual-account.js";
import type { Store, StoreTransaction } from "../../persistence/store.js";
import type { BankOutcome, BankRefusal, BillerProvider, KeptAnswer } from "../../providers/biller.js";
import type { RequestIdGuard } from "../../providers/provider.js";
import type { BillProblem } from "./bill.js";

/**
 * What the inquiry and payment use cases share. Each bank request is one transaction that claims its
 * request id, does the work and keeps the answer, or does nothing at all: a refused or failed request
 * leaves no trace, so neither its request id nor anything else is burnt.
 */

/** A request refused; thrown inside the transaction so that it rolls back. */
export class Refusal extends Error {
  constructor(
    readonly refusal: BankRefusal,
    readonly reason: string,
  ) {
    super(reason);
  }

  static of(problem: BillProblem): Refusal {
    return new Refusal(problem.refusal, problem.reason);
  }
}

/** The work's answer, or the refusal it threw. Any other failure is thrown: nothing was kept. */
export async function inTransaction(store: Store, work: (tx: StoreTransaction) => Promise<KeptAnswer>): Promise<BankOutcome> {
  try {
    return { kind: "ANSWERED", answer: await store.transaction(work) };
  } catch (error) {
    if (error instanceof Refusal) return { kind: "REFUSED", refusal: error.refusal, reason: error.reason };
    throw error;
  }
}

/** Refused when the bank already used this request id today for another request (claimed until commit). */
export async function claimRequestId(tx: StoreTransaction, guard: RequestIdGuard, now: Date): Promise<void> {
  if ((await tx.snapExternalIds.claim(guard, now)) === "CONFLICT") {
    throw new Refusal("REQUEST_ID_REUSED", "X-EXTERNAL-ID reused for another request");
  }
}

/** The VA behind the number, locked; refused when it is not one of ours. */
export async function lockBill(
  tx: StoreTransaction,
  provider: Pick<BillerProvider, "name" | "providerAccount">,
  request: { vaNumber: string; ours: boolean },
): Promise<VirtualAccount> {
  const va = request.ours
    ? await tx.virtualAccounts.lockByNumber(provider.name, provider.providerAccount, request.vaNumber)
    : undefined;
  if (!va) throw new Refusal("UNKNOWN_BILL", "no such VA");
  return va;
}
