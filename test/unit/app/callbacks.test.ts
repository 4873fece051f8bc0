import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CallbackIntake } from "../../../src/app/callbacks.js";
import { PaymentRecorder } from "../../../src/app/payments.js";
import { ProviderRegistry } from "../../../src/app/provider-registry.js";
import { DomainError } from "../../../src/domain/errors.js";
import type { ReportedPayment } from "../../../src/domain/payment.js";
import type { VirtualAccount } from "../../../src/domain/virtual-account.js";
import type { Store } from "../../../src/persistence/store.js";
import type { Confirmation, VaProvider } from "../../../src/providers/provider.js";
import { fakeProvider, manualClock, openCapabilities, openTestStore, reportFor, virtualAccount } from "../../support/app.js";

/** PaymentRecorder and CallbackIntake on a real SQLite store, against a provider the test scripts. */

const T0 = new Date("2026-06-01T08:00:00Z");
const RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 8_000;
const DOUBTFUL = { verified: false, doubt: "the callback is not signed" } as const;
const VERIFIED = { verified: true } as const;

let store: Store;
let close: () => Promise<void>;
let clock: ReturnType<typeof manualClock>;
let registry: ProviderRegistry;
let recorder: PaymentRecorder;
let intake: CallbackIntake;
/** What the provider's API answers when asked to confirm; a function that throws means it cannot tell. */
let confirmation: (claim: ReportedPayment) => Confirmation;
let confirmations: number;
let provider: VaProvider;

beforeEach(async () => {
  ({ store, close } = await openTestStore());
  clock = manualClock(T0);
  confirmations = 0;
  confirmation = () => {
    throw new DomainError("UNAVAILABLE", "status API down");
  };
  provider = fakeProvider("fake", {
    confirmPayment: async (claim) => {
      confirmations++;
      return confirmation(claim);
    },
  });
  registry = new ProviderRegistry("fake");
  registry.register(provider, openCapabilities("fake"));
  recorder = new PaymentRecorder(store, clock.now, 60_000);
  intake = new CallbackIntake(store, registry, recorder, clock.now, {
    confirmTimeoutMs: 5_000,
    retryDelayMs: RETRY_DELAY_MS,
    maxRetryDelayMs: MAX_RETRY_DELAY_MS,
    batchSize: 10,
  });
});

afterEach(() => close());

async function insertVa(overrides: Partial<VirtualAccount> = {}): Promise<VirtualAccount> {
  const va = virtualAccount({ provider: "fake", createdAt: new Date(T0.getTime() - 3_600_000), ...overrides });
  await store.transaction((tx) => tx.virtualAccounts.insert(va));
  return va;
}

const stored = async (va: VirtualAccount) => store.virtualAccounts.find(va.tenantId, va.id);
const payments = (va: VirtualAccount) => store.payments.list(va.tenantId, va.id);
const held = async () => store.heldPayments.list({ provider: "fake" }, 10);
const confirmed = (claim: ReportedPayment, changes: Partial<ReportedPayment> = {}): Confirmation => ({
  paid: true,
  notification: { ...claim, ...changes },
});

describe("PaymentRecorder", () => {
  it("records a payment on its VA once, with the VA change and its event", async () => {
    const va = await insertVa();
    const report = reportFor(va);
    expect(await recorder.record("fake", report, "CALLBACK")).toBe("RECORDED");
    expect(await recorder.record("fake", report, "STATUS_POLL")).toBe("DUPLICATE");
    expect(await payments(va)).toEqual([
      expect.objectContaining({ providerPaymentRef: report.providerPaymentRef, amount: 25_000n, outcome: "ACCEPTED" }),
    ]);
    expect(await stored(va)).toMatchObject({ status: "COMPLETED", paidAmount: 25_000n, paymentCount: 1 });
    const events = await store.events.read({ after: 0n }, 10);
    expect(events.map((event) => event.type)).toEqual(["PAYMENT_RECEIVED"]);
  });

  it("holds a payment that matches no VA, due after the retry delay", async () => {
    const va = virtualAccount({ provider: "fake", createdAt: T0 });
    expect(await recorder.record("fake", reportFor(va), "CALLBACK")).toBe("HELD");
    expect(await held()).toEqual([
      expect.objectContaining({
        reason: "UNMATCHED",
        state: "HELD",
        attempts: 0,
        nextAttemptAt: new Date(T0.getTime() + 60_000),
      }),
    ]);
  });
});

describe("CallbackIntake.receive", () => {
  it("records a verified callback without asking the provider", async () => {
    const va = await insertVa();
    expect(await intake.receive(provider, reportFor(va), VERIFIED, undefined)).toBe("RECORDED");
    expect(confirmations).toBe(0);
    expect(await payments(va)).toHaveLength(1);
  });

  it("records a doubtful callback as the provider confirms it: the provider's amount wins", async () => {
    const va = await insertVa();
    const claim = reportFor(va, { amount: 1n });
    confirmation = (asked) => confirmed(asked, { amount: 25_000n });
    expect(await intake.receive(provider, claim, DOUBTFUL, undefined)).toBe("RECORDED");
    expect(await payments(va)).toEqual([expect.objectContaining({ amount: 25_000n, outcome: "ACCEPTED" })]);
    expect(await held()).toEqual([]);
  });

  it("refutes a doubtful callback the provider denies, and records nothing", async () => {
    const va = await insertVa();
    confirmation = () => ({ paid: false, reason: "no such payment" });
    expect(await intake.receive(provider, reportFor(va), DOUBTFUL, undefined)).toBe("REFUTED");
    expect(await payments(va)).toEqual([]);
    expect(await held()).toEqual([]);
  });

  it("holds a doubtful callback when the provider cannot tell, saying why", async () => {
    const va = await insertVa();
    const claim = reportFor(va);
    expect(await intake.receive(provider, claim, DOUBTFUL, undefined)).toBe("HELD");
    expect(await payments(va)).toEqual([]);
    expect(await held()).toEqual([
      expect.objectContaining({
        reason: "UNCONFIRMED",
        state: "HELD",
        detail: "the callback is not signed; the provider could not confirm it yet",
        payment: expect.objectContaining({ providerPaymentRef: claim.providerPaymentRef }),
      }),
    ]);
  });

  it("holds a doubtful callback when the provider has no API to confirm it", async () => {
    const va = await insertVa();
    const unconfirmable = fakeProvider("fake");
    expect(await intake.receive(unconfirmable, reportFor(va), DOUBTFUL, undefined)).toBe("HELD");
  });

  it("answers a doubtful repeat of a recorded payment as a duplicate without asking the provider", async () => {
    const va = await insertVa();
    const report = reportFor(va);
    await intake.receive(provider, report, VERIFIED, undefined);
    expect(await intake.receive(provider, report, DOUBTFUL, undefined)).toBe("DUPLICATE");
    expect(confirmations).toBe(0);
  });

  it("refuses a request id reused for a different request, scoped by provider", async () => {
    const va = await insertVa();
    const guard = { scope: "partner-1", day: "2026-06-01", requestId: "ext-1", bodyHash: "a" };
    expect(await intake.receive(provider, reportFor(va), VERIFIED, guard)).toBe("RECORDED");
    expect(await intake.receive(provider, reportFor(va), VERIFIED, { ...guard, bodyHash: "b" })).toBe("ID_REUSED");
    expect(await payments(va)).toHaveLength(1);
  });
});

describe("CallbackIntake.reviewHeld", () => {
  async function holdOne(va: VirtualAccount): Promise<ReportedPayment> {
    const claim = reportFor(va);
    expect(await intake.receive(provider, claim, DOUBTFUL, undefined)).toBe("HELD");
    return claim;
  }
  const untilDue = () => clock.advance(60_000);

  it("looks only at held payments that are due", async () => {
    await holdOne(await insertVa());
    expect(await intake.reviewHeld()).toEqual({ reviewed: 0, recorded: 0, refuted: 0 });
  });

  it("records a held payment once the provider confirms it", async () => {
    const va = await insertVa();
    await holdOne(va);
    untilDue();
    confirmation = (claim) => confirmed(claim);
    expect(await intake.reviewHeld()).toEqual({ reviewed: 1, recorded: 1, refuted: 0 });
    expect(await payments(va)).toHaveLength(1);
    expect(await held()).toEqual([
      expect.objectContaining({ state: "RECORDED", virtualAccountId: va.id, resolvedAt: clock.now() }),
    ]);
    expect(await intake.reviewHeld()).toEqual({ reviewed: 0, recorded: 0, refuted: 0 });
  });

  it("refutes a held payment the provider denies", async () => {
    const va = await insertVa();
    await holdOne(va);
    untilDue();
    confirmation = () => ({ paid: false, reason: "never paid" });
    expect(await intake.reviewHeld()).toEqual({ reviewed: 1, recorded: 0, refuted: 1 });
    expect(await payments(va)).toEqual([]);
    expect(await held()).toEqual([expect.objectContaining({ state: "REFUTED", detail: "never paid" })]);
  });

  it("postpones a payment the provider still cannot confirm, doubling the delay up to the maximum", async () => {
    await holdOne(await insertVa());
    untilDue();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      expect(await intake.reviewHeld()).toEqual({ reviewed: 1, recorded: 0, refuted: 0 });
      const [postponed] = await held();
      expect(postponed).toMatchObject({ state: "HELD", attempts: attempt });
      delays.push((postponed?.nextAttemptAt.getTime() ?? 0) - clock.now().getTime());
      expect(await intake.reviewHeld()).toMatchObject({ reviewed: 0 });
      clock.advance(delays.at(-1) ?? 0);
    }
    expect(delays).toEqual([2 * RETRY_DELAY_MS, 4 * RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS]);
  });

  it("records a held payment once a VA matches it", async () => {
    const later = virtualAccount({ provider: "fake", createdAt: T0 });
    const report = reportFor(later);
    expect(await intake.receive(provider, report, VERIFIED, undefined)).toBe("HELD");
    untilDue();
    expect(await intake.reviewHeld()).toMatchObject({ recorded: 0 });
    await store.transaction((tx) => tx.virtualAccounts.insert(later));
    clock.advance(MAX_RETRY_DELAY_MS);
    expect(await intake.reviewHeld()).toEqual({ reviewed: 1, recorded: 1, refuted: 0 });
    expect(await payments(later)).toHaveLength(1);
  });
});
