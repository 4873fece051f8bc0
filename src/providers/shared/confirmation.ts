import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import type { Confirmation, PaymentNotification } from "../provider.js";

/** How a provider's status answer turns into a `Confirmation`, whichever provider asked. */

/** The provider cannot tell yet whether the claimed payment happened: the claim stays held. */
export const cannotConfirmNow = (provider: string, why: string) =>
  new DomainError("UNAVAILABLE", `${provider} cannot confirm the payment now: ${why}`, { provider });

/** The status API shows the VA unpaid: a denial of the claim. */
export const unpaidByStatus = (provider: string): Confirmation => ({
  paid: false,
  reason: `${provider}'s status API says the VA is unpaid`,
});

/**
 * The claim confirmed as the provider records it: its amount and time win (the claim's time where it
 * records none), and a fee the claim reported stands only for the amount it was reported with.
 */
export function confirmedAs(claim: PaymentNotification, record: { amount: Rupiah; paidAt: Date | undefined }): Confirmation {
  const fee = record.amount === claim.amount ? claim.fee : undefined;
  return { paid: true, notification: { ...claim, amount: record.amount, fee, paidAt: record.paidAt ?? claim.paidAt } };
}
