import type { BankCapability, ProviderCapabilities } from "../capabilities.js";

export const DURIANPAY_SNAP = "durianpay-snap";

/**
 * "First 8 digits of the virtual account number" (VA Payment Notification): the prefix Durianpay
 * returns as `partnerServiceId`, followed by the suffix (`customerNo`).
 */
export const PREFIX_DIGITS = 8;

/**
 * Longest account suffix per bank. The SNAP pages print no limit; these are the legacy VA API's
 * ("Create API", the smaller of its "Provider 1" and "Provider 2" columns) [assumption: the same
 * banks behind both APIs]. A merchant with longer limits loses nothing but suffix length.
 */
export const SUFFIX_DIGITS: Readonly<Record<string, number>> = {
  BCA: 8,
  BNI: 7,
  BRI: 6,
  CIMB: 8,
  MANDIRI: 7,
  PERMATA: 6,
};

/** The legacy API's longest expiry ("maximum(15768000)" minutes) is beyond our own 90 days. */
const MAX_LIFETIME_MS = 90 * 24 * 3_600_000;

/**
 * What Durianpay's SNAP VA API issues here:
 * - single-use, closed (`"C"`, `totalAmount`) or open (`"O"`) amount. Multi-use VAs are not offered:
 *   the create page says the expiry is "Required if the VA is reusable" but prints no field that
 *   makes a VA reusable, and the status answer would show only a VA's latest payment;
 * - cancel: update-va with `expiredDate` set to now, the way the update page says to expire a VA
 *   (or delete-va, setting `cancelBy`); update: amount of a closed VA and expiry (update page);
 * - a create retried after a lost answer cannot adopt the first VA: the only lookups (update,
 *   status) need the VA number Durianpay returned in the lost answer, and no lookup by our trxId
 *   alone is published; trxId "Must be unique", so the retry is refused (FAILED_PRECONDITION) and
 *   no second VA is made.
 */
export const durianpaySnapCapabilities: ProviderCapabilities = {
  provider: DURIANPAY_SNAP,
  createRetryAdoptsFirst: false,
  banks: Object.entries(SUFFIX_DIGITS).map(
    ([bankCode, suffix]): BankCapability => ({
      bankCode,
      combinations: [
        { usage: "SINGLE", amountType: "FIXED" },
        { usage: "SINGLE", amountType: "OPEN" },
      ],
      maxSuffixDigits: suffix,
      vaNumberDigits: { min: PREFIX_DIGITS + 1, max: PREFIX_DIGITS + suffix },
      minLifetimeMs: 60_000,
      maxLifetimeMs: MAX_LIFETIME_MS,
      canCancel: true,
      canUpdate: true,
    }),
  ),
};
