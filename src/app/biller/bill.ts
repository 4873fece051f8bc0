import type { Rupiah } from "../../domain/money.js";
import type { VirtualAccount } from "../../domain/virtual-account.js";
import type { BankRefusal } from "../../providers/biller.js";

/** The bill a bank sees for one of our VAs, and what it may pay: pure rules shared by inquiry and payment. */

export interface BillProblem {
  refusal: BankRefusal;
  /** For logs. */
  reason: string;
}

/** Why the VA cannot be inquired or paid now: a single-use VA already settled, cancelled or expired. */
export function billStateProblem(va: VirtualAccount, now: Date): BillProblem | undefined {
  if (va.status === "COMPLETED") return { refusal: "BILL_PAID", reason: "single-use VA is already paid" };
  if (va.status === "CANCELLED") return { refusal: "BILL_CANCELLED", reason: "VA is cancelled" };
  if (va.status === "EXPIRED" || va.expiresAt.getTime() <= now.getTime()) {
    return { refusal: "BILL_EXPIRED", reason: "VA is expired" };
  }
  return undefined;
}

export type Quote =
  | {
      ok: true;
      /** The amount the payment must then carry; undefined = anything the rule allows. */
      quoted: Rupiah | undefined;
      /** The total shown to the payer. */
      totalAmount: Rupiah | undefined;
    }
  | { ok: false; problem: BillProblem };

/**
 * The amount an inquiry quotes: a fixed bill its amount (whatever the payer typed); a range the
 * typed amount when it is inside the range (refused otherwise), else its minimum as the shown
 * total; an open bill the typed amount, if any.
 */
export function quote(va: VirtualAccount, typed: Rupiah | undefined): Quote {
  const rule = va.amount;
  switch (rule.type) {
    case "FIXED":
      return { ok: true, quoted: rule.amount, totalAmount: rule.amount };
    case "RANGE":
      if (typed === undefined) return { ok: true, quoted: undefined, totalAmount: rule.min };
      if (typed < rule.min || typed > rule.max) {
        return { ok: false, problem: { refusal: "WRONG_AMOUNT", reason: `typed ${typed} outside ${rule.min}..${rule.max}` } };
      }
      return { ok: true, quoted: typed, totalAmount: typed };
    case "OPEN":
      return { ok: true, quoted: typed, totalAmount: typed };
  }
}

/** Refused unless `paid` is what the inquiry quoted, or else within the rule. */
export function paymentAmountProblem(va: VirtualAccount, quoted: Rupiah | undefined, paid: Rupiah): BillProblem | undefined {
  const wrong = (expected: string): BillProblem => ({ refusal: "WRONG_AMOUNT", reason: `paid ${paid}, expected ${expected}` });
  if (quoted !== undefined) return paid === quoted ? undefined : wrong(String(quoted));
  const rule = va.amount;
  if (rule.type === "FIXED" && paid !== rule.amount) return wrong(String(rule.amount));
  if (rule.type === "RANGE" && (paid < rule.min || paid > rule.max)) return wrong(`${rule.min}..${rule.max}`);
  return undefined;
}
