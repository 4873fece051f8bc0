import type { AmountRule, VaUsage } from "../../domain/virtual-account.js";
import type { BankCapability, ProviderCapabilities } from "../capabilities.js";
import { DOKU_SNAP, DOKU_SNAP_CHANNELS, type DokuSnapMode } from "./transformers.js";

/**
 * What DOKU SNAP issues per channel (providers.md §4.5, SDK README): `C` closed = FIXED, `O` open =
 * OPEN, or RANGE with `minAmount`/`maxAmount`; `reusableStatus` makes it MULTI. DOKU publishes no
 * per-channel matrix for SNAP, so every channel offers every pair [assumption].
 *
 * - Numbers: at most 23 digits (seed 001). DGPC: DOKU's BIN + its customerNo; MGPC/DIPC: our BIN +
 *   the caller's suffix or 10 digits derived from the idempotency key.
 * - Expiry: DOKU documents no bounds; ours (1 minute .. 90 days) apply.
 * - Cancel is delete-va, update is update-va (amount of the same type, expiry); in DIPC both are
 *   local, since DOKU reads the bill from us at every inquiry.
 * - A create retried after a lost answer adopts the first VA through check status by our trxId.
 */
const COMBINATIONS: ReadonlyArray<{ usage: VaUsage; amountType: AmountRule["type"] }> = (["SINGLE", "MULTI"] as const).flatMap(
  (usage) => (["FIXED", "OPEN", "RANGE"] as const).map((amountType) => ({ usage, amountType })),
);

export function dokuSnapCapabilitiesFor<Settings extends { mode: DokuSnapMode; bin: string }>(
  settings: Settings,
): ProviderCapabilities {
  const ours = settings.mode !== "DGPC";
  return {
    provider: DOKU_SNAP,
    banks: Object.keys(DOKU_SNAP_CHANNELS).map(
      (bankCode): BankCapability => ({
        bankCode,
        combinations: COMBINATIONS,
        maxSuffixDigits: ours ? 23 - settings.bin.length : 0,
        vaNumberDigits: { min: settings.bin.length + 1, max: 23 },
        minLifetimeMs: 60_000,
        maxLifetimeMs: 90 * 24 * 3_600_000,
        canCancel: true,
        canUpdate: true,
      }),
    ),
  };
}
