import { formatRupiah2, parseRupiah, type Rupiah } from "../../domain/money.js";
import { isRecord } from "../../providers/shared/wire-helpers.js";

/** SNAP money object: `{"value":"25000.00","currency":"IDR"}` (String(16,2) + ISO-4217). */
export interface SnapMoney {
  value: string;
  currency: "IDR";
}

export function toSnapMoney(amount: Rupiah): SnapMoney {
  return { value: formatRupiah2(amount), currency: "IDR" };
}

/**
 * Reads a money object exactly. Accepts `"25000.00"` and the `"10000"` some providers send;
 * refuses fractions of a rupiah, other currencies, numbers and anything else.
 */
export function parseSnapMoney(money: unknown): Rupiah | undefined {
  if (!isRecord(money) || money.currency !== "IDR" || typeof money.value !== "string") return undefined;
  return parseRupiah(money.value);
}
