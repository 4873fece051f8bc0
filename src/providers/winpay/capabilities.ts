import type { AmountRule, VaUsage } from "../../domain/virtual-account.js";
import type { BankCapability, ProviderCapabilities } from "../capabilities.js";
import { CUSTOMER_NO_DIGITS, MIN_EXPIRY_MS, WINPAY_CHANNEL_TYPES } from "./rules.js";
import { WINPAY } from "./transformers.js";
import type { WinpayVaType } from "./wire.js";

/**
 * What Winpay issues per channel (seed 003 matrix): `c` = SINGLE + FIXED, `o` = MULTI + OPEN,
 * `r` = MULTI + FIXED.
 *
 * - `customerNo` (our suffix) is 3-14 digits; the interface has no minimum, the adapter refuses fewer.
 * - VA number = BIN + customerNo. Published BINs are 4-5 digits (`9042`, `22691`) and `partnerServiceId`
 *   holds at most 8; Winpay-generated one-off numbers are 11 digits in its sample. 7..22 digits is
 *   therefore our estimate [uncertain].
 * - Expiry: more than 1 minute (`expiredDate` has whole seconds, hence +1 s) and at most 3 calendar
 *   months, of which 89 days is the shortest.
 * - Cancel is delete-va, unpaid VAs only; there is no update-va.
 * - A create retried after a lost answer cannot adopt the first VA: inquiry-va needs Winpay's
 *   `contractId`, which only the lost answer carried, and Winpay has no lookup by our `trxId` alone.
 *   The retry fails FAILED_PRECONDITION (Winpay's `4092701`) instead of making a second VA.
 */
const COMBINATION_OF: Record<WinpayVaType, { usage: VaUsage; amountType: AmountRule["type"] }> = {
  c: { usage: "SINGLE", amountType: "FIXED" },
  o: { usage: "MULTI", amountType: "OPEN" },
  r: { usage: "MULTI", amountType: "FIXED" },
};

export const winpayCapabilities: ProviderCapabilities = {
  provider: WINPAY,
  createRetryAdoptsFirst: false,
  banks: Object.entries(WINPAY_CHANNEL_TYPES).map(
    ([bankCode, types]): BankCapability => ({
      bankCode,
      combinations: types.map((type) => COMBINATION_OF[type]),
      maxSuffixDigits: CUSTOMER_NO_DIGITS.max,
      vaNumberDigits: { min: 7, max: 22 },
      minLifetimeMs: MIN_EXPIRY_MS + 1_000,
      maxLifetimeMs: 89 * 24 * 3_600_000,
      canCancel: true,
      canUpdate: false,
    }),
  ),
};
