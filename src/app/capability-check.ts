import { DomainError, invalidArgument } from "../domain/errors.js";
import type { VirtualAccountDraft } from "../domain/virtual-account.js";
import type { BankCapability, ProviderCapabilities } from "../providers/capabilities.js";

const describeCombinations = (bank: BankCapability) => bank.combinations.map((c) => `${c.usage}+${c.amountType}`).join(", ");

/**
 * Why `provider` cannot issue this VA, naming the request field and the provider's rule; undefined
 * when it can. Checked before any provider call, so a refusal costs nothing and changes nothing.
 */
export function capabilityProblem(
  draft: VirtualAccountDraft,
  capabilities: ProviderCapabilities,
  now: Date,
): DomainError | undefined {
  const name = capabilities.provider;
  const bank = capabilities.banks.find((b) => b.bankCode === draft.bankCode);
  if (!bank) {
    const banks = capabilities.banks.map((b) => b.bankCode).join(", ");
    return invalidArgument("bank_code", `provider ${name} does not issue VAs at ${draft.bankCode} (banks: ${banks})`);
  }
  const combination = bank.combinations.some((c) => c.usage === draft.usage && c.amountType === draft.amount.type);
  if (!combination) {
    return invalidArgument(
      "amount",
      `provider ${name} at ${bank.bankCode} cannot issue a ${draft.usage} VA with a ${draft.amount.type} amount (supported: ${describeCombinations(bank)})`,
    );
  }
  if (draft.numberSuffix.length > bank.maxSuffixDigits) {
    const rule = bank.maxSuffixDigits === 0 ? "takes no number suffix" : `takes at most ${bank.maxSuffixDigits} suffix digits`;
    return invalidArgument("number_suffix", `provider ${name} at ${bank.bankCode} ${rule}`);
  }
  const lifetimeMs = draft.expiresAt.getTime() - now.getTime();
  if (lifetimeMs < bank.minLifetimeMs || lifetimeMs > bank.maxLifetimeMs) {
    return invalidArgument(
      "expires_at",
      `provider ${name} at ${bank.bankCode} needs an expiry between ${bank.minLifetimeMs / 60_000} and ${bank.maxLifetimeMs / 60_000} minutes ahead`,
    );
  }
  return undefined;
}

export function updateProblem(capabilities: ProviderCapabilities, bankCode: string): DomainError | undefined {
  const bank = capabilities.banks.find((b) => b.bankCode === bankCode);
  if (bank?.canUpdate) return undefined;
  return new DomainError("FAILED_PRECONDITION", `provider ${capabilities.provider} cannot change VAs at ${bankCode}`, {
    field: "virtual_account_id",
    provider: capabilities.provider,
  });
}

export function cancelProblem(capabilities: ProviderCapabilities, bankCode: string): DomainError | undefined {
  const bank = capabilities.banks.find((b) => b.bankCode === bankCode);
  if (bank?.canCancel) return undefined;
  return new DomainError(
    "FAILED_PRECONDITION",
    `provider ${capabilities.provider} cannot close VAs at ${bankCode} before they expire`,
    { field: "virtual_account_id", provider: capabilities.provider },
  );
}
