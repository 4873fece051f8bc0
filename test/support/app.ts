import { randomBytes } from "node:crypto";
import type { ReportedPayment } from "../../src/domain/payment.js";
import type { VirtualAccount } from "../../src/domain/virtual-account.js";
import { openDatabase } from "../../src/persistence/orm.js";
import { Store } from "../../src/persistence/store.js";
import type { ProviderCapabilities } from "../../src/providers/capabilities.js";
import type { VaProvider } from "../../src/providers/provider.js";

/** The real store on a fresh, migrated in-memory SQLite database. */
export async function openTestStore(): Promise<{ store: Store; close(): Promise<void> }> {
  const database = await openDatabase({ url: undefined, sqlitePath: ":memory:" });
  return { store: new Store(database), close: () => database.close() };
}

/** A clock the test moves by hand. */
export function manualClock(start: Date) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

const unique = () => randomBytes(6).toString("hex");

/**
 * A provider for use-case tests: every operation fails unless the test gives it; the interface's
 * optional operations are absent unless given.
 */
export function fakeProvider(name: string, operations: Partial<Omit<VaProvider, "name">> = {}): VaProvider {
  const missing = (operation: string) => () => Promise.reject(new Error(`${name}.${operation} was not expected`));
  return {
    name,
    createVirtualAccount: missing("createVirtualAccount"),
    cancelVirtualAccount: missing("cancelVirtualAccount"),
    receiveWebhook: missing("receiveWebhook"),
    ...operations,
  };
}

/** One bank (BCA) taking every usage and amount type, a suffix of up to 8 digits, 1 minute to 90 days. */
export function openCapabilities(provider: string): ProviderCapabilities {
  return {
    provider,
    banks: [
      {
        bankCode: "BCA",
        combinations: (["SINGLE", "MULTI"] as const).flatMap((usage) =>
          (["FIXED", "OPEN", "RANGE"] as const).map((amountType) => ({ usage, amountType })),
        ),
        maxSuffixDigits: 8,
        vaNumberDigits: { min: 10, max: 18 },
        minLifetimeMs: 60_000,
        maxLifetimeMs: 90 * 86_400_000,
        canCancel: true,
        canUpdate: false,
      },
    ],
  };
}

export function virtualAccount(
  overrides: Partial<VirtualAccount> & Pick<VirtualAccount, "provider" | "createdAt">,
): VirtualAccount {
  return {
    id: `va_${unique()}`,
    tenantId: "tenant",
    merchantReference: "order-1",
    providerAccount: "acct",
    providerReference: `ref-${unique()}`,
    providerVaId: undefined,
    bankCode: "BCA",
    vaNumber: `8808${String(Math.floor(Math.random() * 1e10)).padStart(10, "0")}`,
    usage: "SINGLE",
    amount: { type: "FIXED", amount: 25_000n },
    status: "ACTIVE",
    expiresAt: new Date(overrides.createdAt.getTime() + 86_400_000),
    customer: { name: "Budi", email: "budi@example.com", phone: "0811" },
    description: "bill",
    paidAmount: 0n,
    paymentCount: 0,
    updatedAt: overrides.createdAt,
    ...overrides,
  };
}

/** A payment reported for `va`, paid a minute after it was made. */
export function reportFor(va: VirtualAccount, overrides: Partial<ReportedPayment> = {}): ReportedPayment {
  return {
    providerAccount: va.providerAccount,
    providerPaymentRef: `pay-${unique()}`,
    vaNumber: va.vaNumber,
    amount: 25_000n,
    fee: undefined,
    paidAt: new Date(va.createdAt.getTime() + 60_000),
    rawPayload: "{}",
    ...overrides,
  };
}
