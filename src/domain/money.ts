/** Whole rupiah. IDR bank transfers have no minor unit, so every amount is an integer. */
export type Rupiah = bigint;

/** Largest amount any provider we support accepts (12 digits, Rp 999 billion). */
export const MAX_RUPIAH: Rupiah = 999_999_999_999n;

const WHOLE_RUPIAH = /^(0|[1-9][0-9]{0,14})(\.0{1,2})?$/;

/**
 * Reads a provider's decimal string ("25000", "25000.00") exactly. Fractions of a rupiah, signs,
 * exponents and anything else are refused rather than rounded.
 */
export function parseRupiah(text: string): Rupiah | undefined {
  const match = WHOLE_RUPIAH.exec(text);
  if (!match?.[1]) return undefined;
  return BigInt(match[1]);
}

/** SNAP-style two-decimal string: 25000n → "25000.00". */
export function formatRupiah2(amount: Rupiah): string {
  return `${amount.toString()}.00`;
}
