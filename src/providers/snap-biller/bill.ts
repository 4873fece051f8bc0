import { formatRupiah2 } from "../../domain/money.js";
import type { VirtualAccount } from "../../domain/virtual-account.js";
import type { BillTrxType } from "./wire.js";

/** How a bill of ours reads in SNAP (§2.5, §2.7). */

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
