import { MAX_LIFETIME_MS, MIN_LIFETIME_MS } from "../../domain/virtual-account.js";
import type { ProviderCapabilities } from "../capabilities.js";
import { SNAP_BILLER } from "./wire.js";

/**
 * We host the bill, so every usage × amount combination works; the number is our BIN plus a
 * customerNo of `customerNoDigits` (or the caller's shorter suffix). Cancel is local.
 */
export function snapBillerCapabilities(bankCode: string, binDigits: string, customerNoDigits: number): ProviderCapabilities {
  const combinations = (["SINGLE", "MULTI"] as const).flatMap((usage) =>
    (["FIXED", "OPEN", "RANGE"] as const).map((amountType) => ({ usage, amountType })),
  );
  return {
    provider: SNAP_BILLER,
    banks: [
      {
        bankCode,
        combinations,
        maxSuffixDigits: customerNoDigits,
        vaNumberDigits: { min: binDigits.length + 1, max: binDigits.length + customerNoDigits },
        minLifetimeMs: MIN_LIFETIME_MS,
        maxLifetimeMs: MAX_LIFETIME_MS,
        canCancel: true,
        canUpdate: false,
      },
    ],
  };
}
