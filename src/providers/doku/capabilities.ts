import type { AmountRule, VaUsage } from "../../domain/virtual-account.js";
import { MAX_LIFETIME_MS, MAX_VA_DIGITS } from "../../domain/virtual-account.js";
import type { BankCapability, ProviderCapabilities } from "../capabilities.js";
import { DOKU_CHANNELS, type DokuChannel } from "./channels.js";
import { freeDigitsAfter } from "./numbering.js";
import { DOKU } from "./transformers.js";

/** DOKU General BIN (6 digits) + 10-digit DOKU Generated Payment Code (seed 001). */
const DGPC_NUMBER_DIGITS = 16;
/** `expired_time` is whole minutes. DOKU states no maximum; ours applies. */
const MIN_LIFETIME_MS = 60_000;
const USAGES: readonly VaUsage[] = ["SINGLE", "MULTI"];

/** What DOKU issues per bank when it picks the numbers (DGPC) or we do under our BIN (MGPC). */
export function dokuCapabilitiesFor(numbering: { mode: "DGPC" } | { mode: "MGPC"; bin: string }): ProviderCapabilities {
  const maxSuffixDigits = numbering.mode === "MGPC" ? freeDigitsAfter(numbering.bin) : 0;
  const vaNumberDigits =
    numbering.mode === "MGPC"
      ? { min: numbering.bin.length + 1, max: MAX_VA_DIGITS }
      : { min: DGPC_NUMBER_DIGITS, max: DGPC_NUMBER_DIGITS };
  return {
    provider: DOKU,
    banks: DOKU_CHANNELS.map((channel) => bankCapability(channel, maxSuffixDigits, vaNumberDigits)),
  };
}

function bankCapability(
  channel: DokuChannel,
  maxSuffixDigits: number,
  vaNumberDigits: BankCapability["vaNumberDigits"],
): BankCapability {
  const amountTypes = Object.keys(channel.billing.types) as AmountRule["type"][];
  return {
    bankCode: channel.bankCode,
    combinations: USAGES.flatMap((usage) => amountTypes.map((amountType) => ({ usage, amountType }))),
    maxSuffixDigits,
    vaNumberDigits,
    minLifetimeMs: MIN_LIFETIME_MS,
    maxLifetimeMs: MAX_LIFETIME_MS,
    canCancel: channel.canCancel,
    canUpdate: false,
  };
}

/** DOKU's default: DOKU generates the numbers. */
export const dokuCapabilities: ProviderCapabilities = dokuCapabilitiesFor({ mode: "DGPC" });
