import { MAX_LIFETIME_MS, MIN_LIFETIME_MS } from "../../domain/virtual-account.js";
import type { ProviderCapabilities } from "../capabilities.js";
import { BANKS } from "./banks.js";
import { PROVIDER } from "./transformers.js";

const EVERY_COMBINATION = (["SINGLE", "MULTI"] as const).flatMap((usage) =>
  (["FIXED", "OPEN", "RANGE"] as const).map((amountType) => ({ usage, amountType })),
);

/** The sandbox issues every usage × amount combination at each of its banks. */
export const sandboxCapabilities: ProviderCapabilities = {
  provider: PROVIDER,
  banks: [...BANKS].map(([bankCode, bank]) => ({
    bankCode,
    combinations: EVERY_COMBINATION,
    maxSuffixDigits: bank.maxSuffixDigits,
    vaNumberDigits: { min: bank.digits, max: bank.digits },
    minLifetimeMs: MIN_LIFETIME_MS,
    maxLifetimeMs: MAX_LIFETIME_MS,
    canCancel: true,
    canUpdate: false,
  })),
};
