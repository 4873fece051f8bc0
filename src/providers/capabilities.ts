import type { AmountRule, VaUsage } from "../domain/virtual-account.js";

/** What one provider can issue at one bank. A create outside of it fails before any provider call. */
export interface BankCapability {
  bankCode: string;
  /** Allowed usage × amount-type pairs. */
  combinations: ReadonlyArray<{ usage: VaUsage; amountType: AmountRule["type"] }>;
  /** Longest requested number suffix the bank takes; 0 when a suffix cannot be requested. */
  maxSuffixDigits: number;
  /** Length of the VA numbers the provider issues at this bank. */
  vaNumberDigits: { min: number; max: number };
  minLifetimeMs: number;
  maxLifetimeMs: number;
  canCancel: boolean;
  canUpdate: boolean;
}

export interface ProviderCapabilities {
  provider: string;
  banks: readonly BankCapability[];
  /**
   * False where a create retried after a lost answer cannot find the VA the lost attempt made (the
   * provider has no lookup by our reference); the README says why. Unset: it can.
   */
  createRetryAdoptsFirst?: boolean;
}
