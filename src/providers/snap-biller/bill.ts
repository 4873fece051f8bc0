import { formatRupiah2, type Rupiah } from "../../domain/money.js";
import type { VirtualAccount } from "../../domain/virtual-account.js";
import type { SnapOutcome } from "../../protocols/snap/response-code.js";
import { BillerOutcomes, type BillTrxType } from "./wire.js";

/**
 * The bill a bank sees for one of our VAs, and what it may pay: pure rules shared by the inquiry
 * and payment handlers. Codes are §2.8's; the message follows the table's `[Reason]` pattern.
 */

export interface BillProblem {
  outcome: SnapOutcome;
  message: string;
  /** For logs. */
  reason: string;
}

const problem = (outcome: SnapOutcome, reason: string, message = outcome.message): BillProblem => ({
  outcome,
  message,
  reason,
});

/**
 * Why the VA cannot be inquired or paid now: `404xx14` Paid Bill (a single-use VA already settled),
 * `404xx12` Invalid Bill/Virtual Account (cancelled), `404xx19` (expired).
 */
export function billStateProblem(va: VirtualAccount, now: Date): BillProblem | undefined {
  if (va.status === "COMPLETED") return problem(BillerOutcomes.paidBill, "single-use VA is already paid");
  if (va.status === "CANCELLED") {
    return problem(BillerOutcomes.invalidBill, "VA is cancelled", `${BillerOutcomes.invalidBill.message} Cancelled`);
  }
  if (va.status === "EXPIRED" || va.expiresAt.getTime() <= now.getTime()) {
    return problem(BillerOutcomes.expiredBill, "VA is expired");
  }
  return undefined;
}

export type Quote =
  | {
      ok: true;
      /** The amount the payment must then carry; undefined = anything the rule allows. */
      quoted: Rupiah | undefined;
      /** `totalAmount` shown to the payer. */
      totalAmount: Rupiah | undefined;
    }
  | { ok: false; problem: BillProblem };

/**
 * The amount an inquiry quotes: a fixed bill its amount (whatever the payer typed); a range the
 * typed amount when it is inside the range (`404xx13` otherwise), else its minimum as the shown
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
        return { ok: false, problem: problem(BillerOutcomes.invalidAmount, `typed ${typed} outside ${rule.min}..${rule.max}`) };
      }
      return { ok: true, quoted: typed, totalAmount: typed };
    case "OPEN":
      return { ok: true, quoted: typed, totalAmount: typed };
  }
}

/** `404xx13` Invalid Amount unless `paid` is what the inquiry quoted, or else within the rule. */
export function paymentAmountProblem(va: VirtualAccount, quoted: Rupiah | undefined, paid: Rupiah): BillProblem | undefined {
  const wrong = (expected: string) => problem(BillerOutcomes.invalidAmount, `paid ${paid}, expected ${expected}`);
  if (quoted !== undefined) return paid === quoted ? undefined : wrong(String(quoted));
  const rule = va.amount;
  if (rule.type === "FIXED" && paid !== rule.amount) return wrong(String(rule.amount));
  if (rule.type === "RANGE" && (paid < rule.min || paid > rule.max)) return wrong(`${rule.min}..${rule.max}`);
  return undefined;
}

/** C closed (fixed), O open, and for a range M (single use) / N (multi use) with the minimum as total. */
export function trxTypeOf(va: Pick<VirtualAccount, "usage" | "amount">): BillTrxType {
  if (va.amount.type === "FIXED") return "C";
  if (va.amount.type === "OPEN") return "O";
  return va.usage === "SINGLE" ? "M" : "N";
}

export function billAdditionalInfo(va: VirtualAccount): Record<string, string> {
  if (va.amount.type !== "RANGE") return {};
  return { minAmount: formatRupiah2(va.amount.min), maxAmount: formatRupiah2(va.amount.max) };
}

/** `virtualAccountName` M 255: the customer's name, or the merchant reference when there is none. */
export function billName(va: VirtualAccount): string {
  return (va.customer.name.trim() || va.merchantReference).slice(0, 255);
}
