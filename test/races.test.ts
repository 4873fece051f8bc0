import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType, type PaymentEvent, PaymentOutcome, VirtualAccountStatus } from "../src/gen/va/v1/va_pb.js";
import { vaClient } from "./support/clients.js";
import { postgresUnavailableReason } from "./support/databases.js";
import { createRequest, sandboxCallback, sandboxPaymentId, takeEvents } from "./support/fixtures.js";
import { SANDBOX_SECRETS, startTestGateway, TENANTS, type TestGateway } from "./support/gateway.js";

const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] PostgreSQL race tests: ${postgresSkip}`);

const ROUNDS = 10;

/**
 * Two replicas on one PostgreSQL database, each with its own pool, event hub and sweeper. Whatever
 * order the racing operations land in, the story told by the stored state and by both replicas'
 * streams must be one and the same, and consistent with itself.
 */
describe.skipIf(postgresSkip !== undefined)("races between two replicas on PostgreSQL", () => {
  let first: TestGateway;
  let second: TestGateway;

  beforeAll(async () => {
    first = await startTestGateway({ dialect: "postgresql", controlledClock: true, config: { sweepIntervalMs: 20 } });
    second = await startTestGateway({
      dialect: "postgresql",
      controlledClock: true,
      config: { databaseUrl: first.database.orm.config.getClientUrl(), sweepIntervalMs: 20 },
    });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  const onFirst = () => vaClient(first.url, TENANTS.alpha.apiKey);
  const onSecond = () => vaClient(second.url, TENANTS.alpha.apiKey);

  async function payThroughSecond(va: { providerReference: string; vaNumber: string; bankCode: string }) {
    const callback = sandboxCallback(SANDBOX_SECRETS, second.now(), va, { id: sandboxPaymentId(), amount: 25_000n });
    const response = await fetch(`${second.url}/webhooks/sandbox`, { method: "POST", ...callback });
    expect(response.status).toBe(200);
  }

  async function sameStoryOnBothReplicas(id: string, count: number): Promise<PaymentEvent[]> {
    const filter = { filter: { case: "virtualAccountId" as const, value: id } };
    const [a, b] = await Promise.all([takeEvents(onFirst(), filter, count), takeEvents(onSecond(), filter, count)]);
    expect(b.map((e) => [e.cursor, e.type])).toEqual(a.map((e) => [e.cursor, e.type]));
    return a;
  }

  it("cancel racing a payment: either cancelled with a LATE payment, or completed and the cancel refused", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { virtualAccount } = await onFirst().createVirtualAccount(createRequest());
      const va = virtualAccount as NonNullable<typeof virtualAccount>;
      const [cancel] = await Promise.allSettled([
        onFirst().cancelVirtualAccount({ virtualAccountId: va.id, idempotencyKey: `race-${va.id}` }),
        payThroughSecond(va),
      ]);
      const status = await onSecond().getPaymentStatus({ virtualAccountId: va.id });
      expect(status.payments).toHaveLength(1);
      const events = await sameStoryOnBothReplicas(va.id, cancel.status === "fulfilled" ? 3 : 2);
      const types = events.map((e) => e.type);
      if (cancel.status === "fulfilled") {
        expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.CANCELLED);
        expect(types).toEqual([
          EventType.VIRTUAL_ACCOUNT_CREATED,
          EventType.VIRTUAL_ACCOUNT_CANCELLED,
          EventType.PAYMENT_RECEIVED,
        ]);
        expect(status.payments[0]?.outcome).toBe(PaymentOutcome.LATE);
      } else {
        expect(cancel.reason).toMatchObject({ code: 9 });
        expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);
        expect(types).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED, EventType.PAYMENT_RECEIVED]);
        expect(status.payments[0]?.outcome).toBe(PaymentOutcome.ACCEPTED);
      }
    }
  });

  it("expiry racing a payment, both replicas sweeping: one EXPIRED at most, and the outcome follows the order", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const expiresAt = new Date(first.now().getTime() + 2 * 60_000);
      const { virtualAccount } = await onFirst().createVirtualAccount(createRequest({ expiresAt: timestampFromDate(expiresAt) }));
      const va = virtualAccount as NonNullable<typeof virtualAccount>;
      // Bring both clocks to within a few ms of the expiry: the sweepers and the payment race.
      const jitter = Math.round(Math.random() * 60) - 30;
      first.advanceClock(2 * 60_000 + jitter);
      second.advanceClock(2 * 60_000 + jitter);
      await payThroughSecond(va);
      const status = await onFirst().getPaymentStatus({ virtualAccountId: va.id });
      const outcome = status.payments[0]?.outcome;
      const events = await sameStoryOnBothReplicas(va.id, outcome === PaymentOutcome.LATE ? 3 : 2);
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t === EventType.VIRTUAL_ACCOUNT_EXPIRED).length).toBeLessThanOrEqual(1);
      if (outcome === PaymentOutcome.LATE) {
        // Paid after the expiry instant: late whether the sweeper got there first or not; never settles.
        expect([...types].sort()).toEqual(
          [EventType.VIRTUAL_ACCOUNT_CREATED, EventType.PAYMENT_RECEIVED, EventType.VIRTUAL_ACCOUNT_EXPIRED].sort(),
        );
        expect(events.find((e) => e.type === EventType.PAYMENT_RECEIVED)?.virtualAccount?.paidAmount).toBe(0n);
        const final = await onFirst().getPaymentStatus({ virtualAccountId: va.id });
        expect(final.virtualAccount?.status).toBe(VirtualAccountStatus.EXPIRED);
      } else {
        expect(outcome).toBe(PaymentOutcome.ACCEPTED);
        expect(types).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED, EventType.PAYMENT_RECEIVED]);
        expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);
      }
    }
  });
});
