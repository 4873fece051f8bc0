import { DomainError, invalidArgument } from "./errors.js";
import { MAX_RUPIAH, type Rupiah } from "./money.js";

export type VaUsage = "SINGLE" | "MULTI";

export type AmountRule = { type: "FIXED"; amount: Rupiah } | { type: "OPEN" } | { type: "RANGE"; min: Rupiah; max: Rupiah };

export type VaStatus = "ACTIVE" | "INQUIRED" | "PAID" | "COMPLETED" | "EXPIRED" | "CANCELLED";

export interface Customer {
  name: string;
  email: string;
  phone: string;
}

export interface VirtualAccount {
  id: string;
  tenantId: string;
  merchantReference: string;
  provider: string;
  /** The merchant account at the provider the VA lives under; part of the payment dedupe key. */
  providerAccount: string;
  providerReference: string;
  /** The provider's own identity of the VA as its callbacks name it (see the provider interface). */
  providerVaId: string | undefined;
  bankCode: string;
  vaNumber: string;
  usage: VaUsage;
  amount: AmountRule;
  status: VaStatus;
  expiresAt: Date;
  customer: Customer;
  description: string;
  /** Sum of payments that settled the bill. */
  paidAmount: Rupiah;
  /** Every payment recorded against the VA, whatever its outcome. */
  paymentCount: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What a caller asks for; the provider fills in the number and references. */
export interface VirtualAccountDraft {
  merchantReference: string;
  provider: string;
  bankCode: string;
  usage: VaUsage;
  amount: AmountRule;
  expiresAt: Date;
  customer: Customer;
  numberSuffix: string;
  description: string;
}

export const MIN_LIFETIME_MS = 60_000;
export const MAX_LIFETIME_MS = 90 * 24 * 3_600_000;
export const DEFAULT_LIFETIME_MS = 24 * 3_600_000;
/** DOKU's stated maximum, the longest any bank accepts. */
export const MAX_VA_DIGITS = 23;

/** Applies the rules no provider may relax; returns the draft with the default expiry filled in. */
export function checkDraft(draft: Omit<VirtualAccountDraft, "expiresAt"> & { expiresAt?: Date }, now: Date): VirtualAccountDraft {
  checkAmountRule(draft.amount);
  const expiresAt = draft.expiresAt ?? new Date(now.getTime() + DEFAULT_LIFETIME_MS);
  const lifetime = expiresAt.getTime() - now.getTime();
  if (lifetime < MIN_LIFETIME_MS) {
    throw invalidArgument("expires_at", "must be at least 1 minute in the future");
  }
  if (lifetime > MAX_LIFETIME_MS) {
    throw invalidArgument("expires_at", "must be at most 90 days in the future");
  }
  if (draft.numberSuffix !== "" && !/^[0-9]+$/.test(draft.numberSuffix)) {
    throw invalidArgument("number_suffix", "must contain digits only");
  }
  return { ...draft, expiresAt };
}

export function checkAmountRule(rule: AmountRule): void {
  const inBounds = (value: Rupiah) => value > 0n && value <= MAX_RUPIAH;
  switch (rule.type) {
    case "FIXED":
      if (!inBounds(rule.amount)) throw invalidArgument("amount.fixed.amount", `must be 1..${MAX_RUPIAH}`);
      return;
    case "RANGE":
      if (!inBounds(rule.min)) throw invalidArgument("amount.range.min", `must be 1..${MAX_RUPIAH}`);
      if (!inBounds(rule.max)) throw invalidArgument("amount.range.max", `must be 1..${MAX_RUPIAH}`);
      if (rule.min >= rule.max) throw invalidArgument("amount.range", "min must be less than max");
      return;
    case "OPEN":
      return;
  }
}

/** A provider-issued number must be what a payer can type at any bank: digits, at most 23. */
export function checkVaNumber(vaNumber: string): void {
  if (!/^[0-9]+$/.test(vaNumber) || vaNumber.length > MAX_VA_DIGITS) {
    throw new DomainError("INTERNAL", `provider returned an invalid VA number (${vaNumber.length} characters)`);
  }
}

/** The bill a bank shows the payer when it asks: the fixed amount, the range minimum, or none. */
export function suggestedAmount(rule: AmountRule): Rupiah | undefined {
  if (rule.type === "FIXED") return rule.amount;
  if (rule.type === "RANGE") return rule.min;
  return undefined;
}

export const isOpenForPayment = (status: VaStatus) => status === "ACTIVE" || status === "INQUIRED" || status === "PAID";

/** Cancel is allowed while the VA can still take money; cancelling twice is a no-op. */
export function cancelTransition(va: VirtualAccount): "CANCEL" | "ALREADY_CANCELLED" {
  if (va.status === "CANCELLED") return "ALREADY_CANCELLED";
  if (!isOpenForPayment(va.status)) {
    throw new DomainError("FAILED_PRECONDITION", `virtual account is ${va.status.toLowerCase()} and can no longer be cancelled`, {
      field: "virtual_account_id",
    });
  }
  return "CANCEL";
}

/** Checks a change to an open VA: same amount type, valid amounts, expiry within bounds. */
export function checkChanges(va: VirtualAccount, changes: { amount?: AmountRule; expiresAt?: Date }, now: Date): void {
  if (!isOpenForPayment(va.status)) {
    throw new DomainError("FAILED_PRECONDITION", `virtual account is ${va.status.toLowerCase()} and can no longer change`, {
      field: "virtual_account_id",
    });
  }
  if (changes.amount) {
    if (changes.amount.type !== va.amount.type) {
      throw invalidArgument("amount", `must stay ${va.amount.type.toLowerCase()}: the amount type of a VA cannot change`);
    }
    checkAmountRule(changes.amount);
  }
  if (changes.expiresAt) {
    const lifetime = changes.expiresAt.getTime() - now.getTime();
    if (lifetime < MIN_LIFETIME_MS) throw invalidArgument("expires_at", "must be at least 1 minute in the future");
    if (lifetime > MAX_LIFETIME_MS) throw invalidArgument("expires_at", "must be at most 90 days in the future");
  }
}

/** True when the sweeper should close the VA now. */
export const isDue = (va: VirtualAccount, now: Date) => isOpenForPayment(va.status) && va.expiresAt.getTime() <= now.getTime();
