import type { BankCapability, ProviderCapabilities } from "../capabilities.js";

/**
 * Durianpay dynamic VAs (`POST /v1/payments/va`, seed 004 + reference §6.3).
 *
 * - Longest `account_suffix` per bank is documented (MANDIRI 7, BCA 14, BRI 9, PERMATA 8, CIMB 8).
 * - Every usage × amount pair is allowed: SINGLE = `is_reusable: false`, MULTI = `is_reusable: true`,
 *   FIXED = `is_closed: true` + `amount`, OPEN = `is_closed: false`, RANGE = open + `min_amount`/`max_amount`.
 *   Durianpay refuses some pairs per bank (`DPAY_STATIC_CLOSED_VA_NOT_SUPPORTED`, …) but does not say
 *   which banks; the adapter maps those refusals to INVALID_ARGUMENT when they happen.
 * - VA number = bank prefix + suffix. Prefix lengths are documented by samples for PERMATA (`88565004`, 8)
 *   and BRI (`123617005`, 9); for BCA (5), MANDIRI (8) and CIMB (8) they are our assumption [uncertain].
 * - `expiry_minutes` must be > 0 and at most 15 768 000 minutes.
 * - Cancel and update go through `PATCH /v1/payments/va/:id`.
 * - BNI and NOBU appear on the current reference page without suffix limits; left out until documented.
 */
export const DURIANPAY_MAX_EXPIRY_MINUTES = 15_768_000;

/** Documented suffix limits (seed 004) and the length of the bank prefix in front of the suffix. */
const BANKS = [
  { bankCode: "BCA", suffixMaxLength: 14, prefixLength: 5 },
  { bankCode: "BRI", suffixMaxLength: 9, prefixLength: 9 },
  { bankCode: "MANDIRI", suffixMaxLength: 7, prefixLength: 8 },
  { bankCode: "PERMATA", suffixMaxLength: 8, prefixLength: 8 },
  { bankCode: "CIMB", suffixMaxLength: 8, prefixLength: 8 },
] as const;

const EVERY_COMBINATION: BankCapability["combinations"] = [
  { usage: "SINGLE", amountType: "FIXED" },
  { usage: "SINGLE", amountType: "OPEN" },
  { usage: "SINGLE", amountType: "RANGE" },
  { usage: "MULTI", amountType: "FIXED" },
  { usage: "MULTI", amountType: "OPEN" },
  { usage: "MULTI", amountType: "RANGE" },
];

export const durianpayCapabilities: ProviderCapabilities = {
  provider: "durianpay",
  banks: BANKS.map(
    ({ bankCode, suffixMaxLength, prefixLength }): BankCapability => ({
      bankCode,
      combinations: EVERY_COMBINATION,
      maxSuffixDigits: suffixMaxLength,
      vaNumberDigits: { min: prefixLength + 1, max: prefixLength + suffixMaxLength },
      minLifetimeMs: 60_000,
      maxLifetimeMs: DURIANPAY_MAX_EXPIRY_MINUTES * 60_000,
      canCancel: true,
      canUpdate: true,
    }),
  ),
};
