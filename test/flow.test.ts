import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventCause, EventType, PaymentOutcome, VaUsage, VirtualAccountStatus } from "../src/gen/va/v1/va_pb.js";
import { vaClient } from "./support/clients.js";
import { postgresUnavailableReason } from "./support/databases.js";
import { createRequest, eventually, sandboxCallback, sandboxPaymentId, takeEvents } from "./support/fixtures.js";
import { SANDBOX_SECRETS, startTestGateway, TENANTS, type TestDialect, type TestGateway } from "./support/gateway.js";

const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] PostgreSQL flow tests: ${postgresSkip}`);

describe.each<TestDialect>(["sqlite", "postgresql"])("payment flow on %s", (dialect) => {
  const skip = dialect === "postgresql" && postgresSkip !== undefined;
  let gateway: TestGateway;
  let client: ReturnType<typeof vaClient>;

  beforeAll(async () => {
    if (skip) return;
    gateway = await startTestGateway({ dialect, controlledClock: true, config: { sweepIntervalMs: 50 } });
    client = vaClient(gateway.url, TENANTS.alpha.apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it.skipIf(skip)("create → simulate payment → callback → recorded → streamed", async () => {
    const { virtualAccount } = await client.createVirtualAccount(createRequest());
    expect(virtualAccount?.status).toBe(VirtualAccountStatus.ACTIVE);
    expect(virtualAccount?.vaNumber).toMatch(/^[0-9]{8,23}$/);
    const id = virtualAccount?.id ?? "";

    const { providerPaymentReference } = await client.simulatePayment({ virtualAccountId: id });
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 2);
    expect(events.map((e) => e.type)).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED, EventType.PAYMENT_RECEIVED]);
    const paid = events[1];
    expect(paid?.payment?.amount).toBe(25_000n);
    expect(paid?.payment?.fee).toBe(2_500n);
    expect(paid?.payment?.netAmount).toBe(22_500n);
    expect(paid?.payment?.outcome).toBe(PaymentOutcome.ACCEPTED);
    expect(paid?.payment?.providerPaymentReference).toBe(providerPaymentReference);
    expect(paid?.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);

    const status = await client.getPaymentStatus({ virtualAccountId: id });
    expect(status.virtualAccount?.paidAmount).toBe(25_000n);
    expect(status.payments).toHaveLength(1);
    const simulated = gateway.sandboxKits
      .get("sandbox")
      ?.payments()
      .filter((p) => p.providerPaymentRef === providerPaymentReference);
    expect(simulated?.map((p) => p.amount)).toEqual([25_000n]);
    expect(events.map((e) => e.cause)).toEqual([EventCause.RPC, EventCause.CALLBACK]);
    expect(status.payments[0]?.rawProviderPayload).toContain(providerPaymentReference);
  });

  it.skipIf(skip)("a single-use VA flags a second payment as REPEATED and keeps its total", async () => {
    const { virtualAccount } = await client.createVirtualAccount(createRequest());
    const id = virtualAccount?.id ?? "";
    await client.simulatePayment({ virtualAccountId: id });
    await client.simulatePayment({ virtualAccountId: id });
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 3);
    expect(
      events
        .slice(1)
        .map((e) => e.payment?.outcome)
        .sort(),
    ).toEqual([PaymentOutcome.ACCEPTED, PaymentOutcome.REPEATED]);
    const status = await client.getPaymentStatus({ virtualAccountId: id });
    expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);
    expect(status.virtualAccount?.paidAmount).toBe(25_000n);
    expect(status.virtualAccount?.paymentCount).toBe(2);
  });

  it.skipIf(skip)("a multi-use open VA records both payments", async () => {
    const { virtualAccount } = await client.createVirtualAccount(
      createRequest({ usage: VaUsage.MULTI, amount: { rule: { case: "open", value: {} } } }),
    );
    const id = virtualAccount?.id ?? "";
    await client.simulatePayment({ virtualAccountId: id, amount: 10_000n });
    await client.simulatePayment({ virtualAccountId: id, amount: 15_000n });
    await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 3);
    const status = await client.getPaymentStatus({ virtualAccountId: id });
    expect(status.payments.map((p) => p.outcome)).toEqual([PaymentOutcome.ACCEPTED, PaymentOutcome.ACCEPTED]);
    expect(status.virtualAccount?.paidAmount).toBe(25_000n);
    expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.PAID);
  });

  it.skipIf(skip)("fixed amount: under- and over-payments are recorded with their outcome", async () => {
    const { virtualAccount } = await client.createVirtualAccount(createRequest({ usage: VaUsage.MULTI }));
    const id = virtualAccount?.id ?? "";
    await client.simulatePayment({ virtualAccountId: id, amount: 24_999n });
    await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 2);
    await client.simulatePayment({ virtualAccountId: id, amount: 30_000n });
    await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 3);
    const status = await client.getPaymentStatus({ virtualAccountId: id });
    expect(status.payments.map((p) => p.outcome)).toEqual([PaymentOutcome.UNDERPAID, PaymentOutcome.OVERPAID]);
    expect(status.virtualAccount?.paidAmount).toBe(30_000n);
  });

  it.skipIf(skip)("cancel, then a payment still arrives: recorded as LATE, never dropped", async () => {
    const { virtualAccount } = await client.createVirtualAccount(createRequest());
    const id = virtualAccount?.id ?? "";
    const cancelled = await client.cancelVirtualAccount({ virtualAccountId: id, idempotencyKey: `cancel-${id}` });
    expect(cancelled.virtualAccount?.status).toBe(VirtualAccountStatus.CANCELLED);
    const again = await client.cancelVirtualAccount({ virtualAccountId: id, idempotencyKey: `cancel-${id}` });
    expect(again.replayed).toBe(true);

    await client.simulatePayment({ virtualAccountId: id });
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 3);
    expect(events.map((e) => e.type)).toEqual([
      EventType.VIRTUAL_ACCOUNT_CREATED,
      EventType.VIRTUAL_ACCOUNT_CANCELLED,
      EventType.PAYMENT_RECEIVED,
    ]);
    expect(events[2]?.payment?.outcome).toBe(PaymentOutcome.LATE);
    expect(events[2]?.virtualAccount?.status).toBe(VirtualAccountStatus.CANCELLED);
  });

  it.skipIf(skip)("expiry: the sweeper closes the VA on time (test clock) and streams it", async () => {
    const expiresAt = new Date(Date.now() + 5 * 60_000);
    const { virtualAccount } = await client.createVirtualAccount(createRequest({ expiresAt: timestampFromDate(expiresAt) }));
    const id = virtualAccount?.id ?? "";
    gateway.advanceClock(6 * 60_000);
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 2);
    expect(events[1]?.type).toBe(EventType.VIRTUAL_ACCOUNT_EXPIRED);
    const { virtualAccount: after } = await client.inquiryVirtualAccount({ virtualAccountId: id });
    expect(after?.status).toBe(VirtualAccountStatus.EXPIRED);
  });

  it.skipIf(skip)("20 concurrent identical callbacks record one payment and one event", async () => {
    const { virtualAccount } = await client.createVirtualAccount(createRequest());
    const va = virtualAccount;
    const { headers, body } = sandboxCallback(
      SANDBOX_SECRETS,
      gateway.now(),
      { providerReference: va?.providerReference ?? "", vaNumber: va?.vaNumber ?? "", bankCode: "BCA" },
      { id: sandboxPaymentId(), amount: 25_000n },
    );
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${gateway.url}/webhooks/sandbox`, { method: "POST", headers, body }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as { duplicate?: boolean },
        })),
      ),
    );
    expect(
      answers.map((a) => a.status),
      gateway.logs
        .filter((l) => l.includes("error"))
        .join("\n")
        .slice(0, 3000),
    ).toEqual(Array(20).fill(200));
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);

    const status = await client.getPaymentStatus({ virtualAccountId: va?.id ?? "" });
    expect(status.payments).toHaveLength(1);
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va?.id ?? "" } }, 2);
    // Nothing more arrives: read again from the last cursor and expect only heartbeats.
    const later = await takeEvents(
      client,
      { filter: { case: "virtualAccountId", value: va?.id ?? "" }, afterCursor: events[1]?.cursor },
      1,
      1_500,
    ).catch((e: Error) => e);
    expect(later).toBeInstanceOf(Error);
    expect(events.filter((e) => e.type === EventType.PAYMENT_RECEIVED)).toHaveLength(1);
  });

  it.skipIf(skip)("a stream resumed from a cursor gets exactly the missed events, in order, then live ones", async () => {
    const merchantReference = `resume-${Date.now()}`;
    const first = await client.createVirtualAccount(createRequest({ merchantReference, usage: VaUsage.MULTI }));
    const id = first.virtualAccount?.id ?? "";
    const [created] = await takeEvents(client, { filter: { case: "merchantReference", value: merchantReference } }, 1);

    // While "disconnected": two payments and a second VA with the same reference.
    await client.simulatePayment({ virtualAccountId: id, amount: 25_000n });
    await eventually(async () =>
      (await client.getPaymentStatus({ virtualAccountId: id })).payments.length === 1 ? true : undefined,
    );
    await client.simulatePayment({ virtualAccountId: id, amount: 25_000n });
    await eventually(async () =>
      (await client.getPaymentStatus({ virtualAccountId: id })).payments.length === 2 ? true : undefined,
    );
    await client.createVirtualAccount(createRequest({ merchantReference }));

    const abort = new AbortController();
    const received: { type: EventType; cursor: string }[] = [];
    const reading = (async () => {
      for await (const m of client.streamPaymentEvents(
        { filter: { case: "merchantReference", value: merchantReference }, afterCursor: created?.cursor },
        { signal: abort.signal },
      )) {
        if (m.kind.case !== "event") continue;
        received.push({ type: m.kind.value.type, cursor: m.kind.value.cursor });
        if (received.length === 3) await client.simulatePayment({ virtualAccountId: id, amount: 5_000n });
        if (received.length === 4) break;
      }
    })();
    await reading;
    abort.abort();
    expect(received.map((r) => r.type)).toEqual([
      EventType.PAYMENT_RECEIVED,
      EventType.PAYMENT_RECEIVED,
      EventType.VIRTUAL_ACCOUNT_CREATED,
      EventType.PAYMENT_RECEIVED,
    ]);
    const cursors = received.map((r) => BigInt(r.cursor));
    expect([...cursors].sort((a, b) => (a < b ? -1 : 1))).toEqual(cursors);
    expect(new Set(cursors).size).toBe(4);
    expect(cursors[0]).toBeGreaterThan(BigInt(created?.cursor ?? "0"));
  });

  it.skipIf(skip)("a subscriber waiting for one VA sees a payment that happened before it subscribed", async () => {
    const { virtualAccount } = await client.createVirtualAccount(createRequest());
    const id = virtualAccount?.id ?? "";
    await client.simulatePayment({ virtualAccountId: id });
    await eventually(async () => ((await client.getPaymentStatus({ virtualAccountId: id })).payments.length ? true : undefined));
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 2);
    expect(events[1]?.type).toBe(EventType.PAYMENT_RECEIVED);
  });

  it.skipIf(skip)("idempotent create: same key + same request replays, different request is ALREADY_EXISTS", async () => {
    const request = createRequest();
    const first = await client.createVirtualAccount(request);
    const second = await client.createVirtualAccount(request);
    expect(second.replayed).toBe(true);
    expect(second.virtualAccount?.id).toBe(first.virtualAccount?.id);
    await expect(client.createVirtualAccount({ ...request, bankCode: "BNI" })).rejects.toMatchObject({
      code: 6,
      rawMessage: expect.stringContaining("idempotency_key"),
    });
  });
});
