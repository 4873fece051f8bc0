import type { BankCapability, ProviderCapabilities } from "../capabilities.js";

/**
 * Ayoconnect VAs through the legacy v1 API (reference §7.1–7.2, bank matrix of §7.3).
 *
 * - Usage: SINGLE = `dynamic`, MULTI = `static`. Amount: FIXED = `closed`, OPEN = `open`; no ranges.
 *   BNI has no multi-payment closed-amount VA.
 * - The requested suffix is `virtualAccountNumber`, the custom digits after the bank prefix. Bank
 *   limits (SNAP create page) intersected with the legacy field's 8–17: BNI exactly 12, BRI 11–13,
 *   MANDIRI 11–14, BCA 11–17. Shorter suffixes are left-padded with zeros to the minimum, so the VA
 *   still ends with the requested digits.
 * - VA number = bank prefix + custom digits: BNI 16 digits as documented (4-digit prefix assumed);
 *   5-digit prefixes assumed for the others, which keeps within their m-banking maxima (BRI 18,
 *   MANDIRI 19, BCA 23) [uncertain].
 * - `expiresIn` is in minutes; no documented maximum, so ours (90 days) is assumed [uncertain].
 * - Cancel and update go through `PATCH /api/v1/virtualAccount`.
 */
export const AYOCONNECT_MAX_EXPIRES_IN_MINUTES = 90 * 24 * 60;

export interface AyoconnectBank {
  bankCode: string;
  /** The 3-digit code Ayoconnect's `bankCode` field takes. */
  ayoconnectCode: string;
  customDigits: { min: number; max: number };
  prefixLength: number;
  multiPaymentClosedAmount: boolean;
}

export const AYOCONNECT_BANKS: readonly AyoconnectBank[] = [
  {
    bankCode: "BNI",
    ayoconnectCode: "009",
    customDigits: { min: 12, max: 12 },
    prefixLength: 4,
    multiPaymentClosedAmount: false,
  },
  {
    bankCode: "BRI",
    ayoconnectCode: "002",
    customDigits: { min: 11, max: 13 },
    prefixLength: 5,
    multiPaymentClosedAmount: true,
  },
  {
    bankCode: "MANDIRI",
    ayoconnectCode: "008",
    customDigits: { min: 11, max: 14 },
    prefixLength: 5,
    multiPaymentClosedAmount: true,
  },
  {
    bankCode: "BCA",
    ayoconnectCode: "014",
    customDigits: { min: 11, max: 17 },
    prefixLength: 5,
    multiPaymentClosedAmount: true,
  },
];

export const ayoconnectCapabilities: ProviderCapabilities = {
  provider: "ayoconnect",
  // The legacy status query needs virtualAccountId and customerId, which only the create's answer
  // carries; there is no lookup by our transactionId. A retry after a lost answer is refused (see adapter).
  createRetryAdoptsFirst: false,
  banks: AYOCONNECT_BANKS.map(
    (bank): BankCapability => ({
      bankCode: bank.bankCode,
      // Static (multi-payment) VAs are not offered: legacy callbacks are unsigned and the status API
      // shows only the VA's state, not its payments, so a second payment could never be confirmed.
      combinations: [
        { usage: "SINGLE", amountType: "FIXED" },
        { usage: "SINGLE", amountType: "OPEN" },
      ],
      maxSuffixDigits: bank.customDigits.max,
      vaNumberDigits: {
        min: bank.prefixLength + bank.customDigits.min,
        max: bank.prefixLength + bank.customDigits.max,
      },
      minLifetimeMs: 60_000,
      maxLifetimeMs: AYOCONNECT_MAX_EXPIRES_IN_MINUTES * 60_000,
      canCancel: true,
      canUpdate: true,
    }),
  ),
};
