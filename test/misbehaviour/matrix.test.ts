import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BankCapability,
  EventCause,
  EventType,
  PaymentOutcome,
  type ProviderCapability,
  VaUsage,
  type VirtualAccount,
} from "../../src/gen/va/v1/va_pb.js";
import type { ProviderVaRef } from "../../src/providers/provider.js";
import { sandboxKitFactories } from "../../src/sandbox/catalog.js";
import type { SandboxKit } from "../../src/sandbox/kit.js";
import type { CallbackDelivery } from "../../src/sandbox/simulator-kit.js";
import { vaClient } from "../support/clients.js";
import { postgresUnavailableReason } from "../support/databases.js";
import { createRequest, rejection, takeEvents } from "../support/fixtures.js";
import { startTestGateway, TENANTS, type TestDialect, type TestGateway } from "../support/gateway.js";

/**
 * The provider-misbehaviour matrix: every provider × what real providers do that a happy path never
 * shows, through the public RPCs and webhook routes of a real gateway on each database. After each
 * scenario the gateway's ledger equals the provider's truth: every payment the provider made is on the
 * VA it was made to, once, and nothing the provider did not make is recorded.
 */
const PROVIDERS = [...sandboxKitFactories().keys()];
const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] misbehaviour matrix on PostgreSQL: ${postgresSkip}`);
const DIALECTS: TestDialect[] = postgresSkip ? ["sqlite"] : ["sqlite", "postgresql"];

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const BILL = 25_000n;

const post = (delivery: CallbackDelivery) =>
  fetch(delivery.url, { method: "POST", headers: delivery.headers, body: delivery.body }).then(async (r) => ({
    status: r.status,
    body: await r.text(),
  }));

const refOf = (va: VirtualAccount | undefined): ProviderVaRef => ({
  providerAccount: "",
  providerReference: va?.providerReference ?? "",
  vaNumber: va?.vaNumber ?? "",
  bankCode: va?.bankCode ?? "",
});

const isSuccess = (status: number) => status >= 200 && status < 300;

describe.each(DIALECTS)("misbehaviour matrix on %s", (dialect) => {
  let gateway: TestGateway;
  let client: ReturnType<typeof vaClient>;

  beforeAll(async () => {
    gateway = await startTestGateway({
      dialect,
      controlledClock: true,
      config: {
        // Background loops stay out of the way; each scenario runs reconciliation and held-payment review itself.
        sweepIntervalMs: 3_600_000,
        reconcile: { beforeExpiryMs: 400 * DAY, afterExpiryMs: 400 * DAY, baseDelayMs: 0, maxDelayMs: 0 },
      },
    });
    client = vaClient(gateway.url, TENANTS.alpha.apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  /** The gateway's ledger of one VA: provider reference → amount. */
  async function ledger(va: VirtualAccount | undefined) {
    const { payments } = await client.getPaymentStatus({ virtualAccountId: va?.id ?? "" });
    return payments.map((p) => ({ ref: p.providerPaymentReference, amount: p.amount, outcome: p.outcome }));
  }

  async function expectLedger(va: VirtualAccount | undefined, truth: { ref: string; amount: bigint }[]) {
    const recorded = (await ledger(va)).map(({ ref, amount }) => ({ ref, amount }));
    const byRef = (a: { ref: string }, b: { ref: string }) => a.ref.localeCompare(b.ref);
    expect(recorded.sort(byRef)).toEqual([...truth].sort(byRef));
  }

  /** Held payments whose retry is due are looked at again (the gateway does this on its sweep interval). */
  async function reviewHeld() {
    gateway.advanceClock(2 * MINUTE);
    return gateway.intake.reviewHeld();
  }

  describe.each(PROVIDERS)("%s", (name) => {
    let kit: SandboxKit;
    let bank: BankCapability;
    let capability: ProviderCapability;

    beforeAll(async () => {
      kit = gateway.sandboxKits.get(name) as SandboxKit;
      const { providers } = await client.getCapabilities({ provider: name });
      capability = providers[0] as ProviderCapability;
      const banks = capability.banks;
      const fixedSingle = (b: BankCapability) => b.combinations.some((c) => c.usage === VaUsage.SINGLE && c.amountType === 1);
      bank = banks.find((b) => fixedSingle(b) && b.canCancel) ?? banks.find(fixedSingle) ?? (banks[0] as BankCapability);
    });

    const create = async (idempotencyKey?: string) => {
      const request = createRequest({ provider: name, bankCode: bank.bankCode });
      const { virtualAccount } = await client.createVirtualAccount(
        idempotencyKey ? { ...request, idempotencyKey, merchantReference: idempotencyKey } : request,
      );
      return virtualAccount;
    };

    const pay = async (va: VirtualAccount | undefined, amount = BILL) => {
      const { providerPaymentReference } = await client.simulatePayment({ virtualAccountId: va?.id ?? "", amount });
      return { ref: providerPaymentReference, amount };
    };

    it("callback lost: the reconciler records the payment from the status API, once, cause STATUS_POLL", async () => {
      expect(capability.reconcilesLostCallbacks).toBe(true);
      const va = await create();
      kit.misbehaviour.holdCallbacks(true);
      const paid = await pay(va).finally(() => kit.misbehaviour.holdCallbacks(false));
      expect(await ledger(va)).toEqual([]);

      await gateway.reconciler.runOnce();
      await expectLedger(va, [paid]);
      const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va?.id ?? "" } }, 2);
      expect(events[1]).toMatchObject({ type: EventType.PAYMENT_RECEIVED, cause: EventCause.STATUS_POLL });

      // The callback turns up after all: acknowledged, nothing doubled.
      for (const answer of await kit.misbehaviour.deliverHeldCallbacks()) expect(isSuccess(answer.status)).toBe(true);
      await gateway.reconciler.runOnce();
      await expectLedger(va, [paid]);
    });

    it("duplicated with the same request id and body: the same success answer, one payment", async () => {
      const va = await create();
      const paid = await pay(va);
      await kit.idle();
      await expectLedger(va, [paid]);
      const again = kit.lastDelivery() as CallbackDelivery;
      const first = await post(again);
      const second = await post(again);
      expect(isSuccess(first.status)).toBe(true);
      expect(second).toEqual(first);
      await expectLedger(va, [paid]);
    });

    it("stale: a correctly signed callback retried 31 minutes later with its first timestamp is confirmed and recorded once", async () => {
      const va = await create();
      kit.misbehaviour.holdCallbacks(true);
      const paid = await pay(va).finally(() => kit.misbehaviour.holdCallbacks(false));
      gateway.advanceClock(31 * MINUTE);
      const answers = await kit.misbehaviour.deliverHeldCallbacks();
      expect(answers.length).toBeGreaterThan(0);
      for (const answer of answers) expect(isSuccess(answer.status)).toBe(true);
      await reviewHeld();
      await expectLedger(va, [paid]);
    });

    it("amount other than the bill: recorded as paid, classified against the bill, acknowledged", async () => {
      const va = await create();
      const paid = await kit.misbehaviour.payOtherThanBill(refOf(va), BILL);
      await kit.idle();
      expect(paid.amount).not.toBe(BILL);
      await expectLedger(va, [{ ref: paid.providerPaymentRef, amount: paid.amount }]);
      const [recorded] = await ledger(va);
      expect(recorded?.outcome).toBe(paid.amount < BILL ? PaymentOutcome.UNDERPAID : PaymentOutcome.OVERPAID);
    });

    it("callback before the create answer: held, then recorded on the VA once the create commits", async () => {
      kit.misbehaviour.payBeforeNextCreateAnswer(BILL);
      const before = new Set(kit.payments().map((p) => p.providerPaymentRef));
      const va = await create();
      const made = kit.payments().filter((p) => !before.has(p.providerPaymentRef));
      expect(made).toHaveLength(1);
      await kit.idle();
      await reviewHeld();
      await expectLedger(
        va,
        made.map((p) => ({ ref: p.providerPaymentRef, amount: p.amount })),
      );
    });

    it("create answer lost, then retried with the same key: adopts the VA the lost attempt made (or, where the provider cannot look it up, says so and makes no second VA)", async () => {
      const key = `lost-answer-${name}-${dialect}-${Date.now()}`;
      kit.misbehaviour.loseNextCreateAnswer();
      const lost = await rejection(create(key));
      expect([Code.DeadlineExceeded, Code.Unavailable]).toContain(lost.code);
      if (!capability.createRetryAdoptsFirst) {
        const refused = await rejection(create(key));
        expect(refused.code).toBe(Code.FailedPrecondition);
        return;
      }
      const adopted = await create(key);
      expect(adopted?.status).toBe(1);
      const replayed = await create(key);
      expect(replayed?.id).toBe(adopted?.id);
      const paid = await pay(adopted);
      await kit.idle();
      await expectLedger(adopted, [paid]);
    });

    it("number reissued: a late payment to the old VA stays on the old VA, the new VA gets only its own", async (context) => {
      const reissue = kit.misbehaviour.reissueNumberOnNextCreate?.bind(kit.misbehaviour);
      if (!reissue) {
        context.skip();
        return;
      }
      const old = await create();
      kit.misbehaviour.holdCallbacks(true);
      const late = await pay(old).finally(() => kit.misbehaviour.holdCallbacks(false));
      // Cancelled where the provider lets us; a provider that saw the VA paid may refuse (it is done with it anyway).
      if (bank.canCancel) {
        await client
          .cancelVirtualAccount({ virtualAccountId: old?.id ?? "", idempotencyKey: `cancel-${old?.id}` })
          .catch((error: unknown) => expect(ConnectError.from(error).code).toBe(Code.FailedPrecondition));
      }
      reissue(old?.vaNumber ?? "");
      const reissued = await create();
      expect(reissued?.vaNumber).toBe(old?.vaNumber);

      for (const answer of await kit.misbehaviour.deliverHeldCallbacks()) expect(isSuccess(answer.status)).toBe(true);
      await reviewHeld();
      const own = await pay(reissued);
      await kit.idle();
      await expectLedger(old, [late]);
      await expectLedger(reissued, [own]);
    });

    // A signed provider's forgery fails its signature: 4xx. An unsigned one is a claim the provider's
    // API must refute; where a refusal is final for the provider (Ayoconnect never retries a 4xx) and
    // its status may lag, the claim is held (acknowledged) and refuted once the lag is ruled out.
    it("forged: refused with a 4xx, or held and then refuted by the provider's API; nothing recorded", async () => {
      const va = await create();
      const answer = await post(kit.forgeCallback(refOf(va), BILL));
      expect(answer.status).toBeLessThan(500);
      if (isSuccess(answer.status)) {
        gateway.advanceClock(20 * MINUTE);
        expect((await gateway.intake.reviewHeld()).refuted).toBeGreaterThanOrEqual(1);
      } else {
        expect(answer.status).toBeGreaterThanOrEqual(400);
        await reviewHeld();
      }
      expect(await ledger(va)).toEqual([]);
    });
  });
});
