import { createHash } from "node:crypto";
import { MAX_VA_DIGITS } from "../../domain/virtual-account.js";
import { padPartnerServiceId } from "../../protocols/snap/va-number.js";

/**
 * VA numbers under our own BIN: `partnerServiceId` (our BIN / company code, space-padded to 8)
 * + `customerNo`. The displayed number (BIN digits + customerNo) stays within 23 digits.
 */

/** The longest customerNo that fits: SNAP allows 20 digits, the display at most 23 in all. */
export const maxCustomerNoDigits = (binDigits: string) => Math.min(20, MAX_VA_DIGITS - binDigits.length);

export function checkNumbering(binDigits: string, customerNoDigits: number): void {
  padPartnerServiceId(binDigits);
  const max = maxCustomerNoDigits(binDigits);
  if (!Number.isInteger(customerNoDigits) || customerNoDigits < 6 || customerNoDigits > max) {
    throw new RangeError(`customerNo length must be 6..${max} digits for BIN ${binDigits}`);
  }
}

/**
 * A customerNo of exactly `digits` digits derived from our external id (itself derived from the
 * caller's idempotency key), so a retried create gets the same number. SHA-256 reduced mod 10^n:
 * with n ≥ 15 two VAs share a number with negligible probability.
 */
export function customerNoFor(externalId: string, digits: number): string {
  const hash = createHash("sha256").update(`snap-biller\u0000${externalId}`).digest("hex");
  return (BigInt(`0x${hash}`) % 10n ** BigInt(digits)).toString().padStart(digits, "0");
}
