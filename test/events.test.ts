import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType, type PaymentEvent, VaUsage } from "../src/gen/va/v1/va_pb.js";
import { vaClient } from "./support/clients.js";
import { postgresUnavailableReason } from "./support/databases.js";
import { createRequest, eventually, sandboxCallback, sandboxPaymentId, takeEvents } from "./support/fixtures.js";
import { SANDBOX_SECRETS, startTestGateway, TENANTS, type TestDialect, type TestGateway } from "./support/gateway.js";

const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] PostgreSQL event tests: ${postgresSkip}`);

const PAYMENTS = 60;

async function payConcurrently(gateway: TestGateway, vas: { providerReference: string; vaNumber: string; bankCode: string }[]) {
  const statuses = await Promise.all(
    Array.from({ length: PAYMENTS }, (_, i) => {
      const callback = sandboxCallback(SANDBOX_SECRETS, gateway.now(), vas[i % vas.length] as (typeof vas)[number], {
        id: sandboxPaymentId(),
        amount: BigInt(1_000 + i),
      });
      return fetch(`${gateway.url}/webhooks/sandbox`, { method: "POST", ...callback }).then((r) => r.status);
    }),
  );
  expect(statuses).toEqual(Array(PAYMENTS).fill(200));
}

async function createMultiUseVas(client: ReturnType<typeof vaClient>, merchantReference: string, count: number) {
  const created = await Promise.all(
    Array.from({ length: count }, () =>
      client.createVirtualAccount(
        createRequest({ merchantReference, usage: VaUsage.MULTI, amount: { rule: { case: "open", value: {} } } }),
      ),
    ),
  );
  return created.map((c) => ({
    providerReference: c.virtualAccount?.providerReference ?? "",
    vaNumber: c.virtualAccount?.vaNumber ?? "",
    bankCode: c.virtualAccount?.bankCode ?? "",
  }));
}

function expectStrictlyIncreasing(events: PaymentEvent[]) {
  const cursors = events.map((e) => BigInt(e.cursor));
  for (let i = 1; i < cursors.length; i++) expect(cursors[i]).toBeGreaterThan(cursors[i - 1] as bigint);
}

describe.each<TestDialect>(["sqlite", "postgresql"])("event log on %s", (dialect) => {
  const skip = dialect === "postgresql" && postgresSkip !== undefined;
  let gateway: TestGateway;

  beforeAll(async () => {
    if (!skip) gateway = await startTestGateway({ dialect });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it.skipIf(skip)("a live subscriber gets every concurrently committed event once, in order", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const merchantReference = `concurrent-${dialect}`;
    const vas = await createMultiUseVas(client, merchantReference, 5);
    const filter = { filter: { case: "merchantReference" as const, value: merchantReference } };
    const live = takeEvents(client, filter, 5 + PAYMENTS, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    await payConcurrently(gateway, vas);
    const events = await live;
    expectStrictlyIncreasing(events);
    expect(events.filter((e) => e.type === EventType.PAYMENT_RECEIVED)).toHaveLength(PAYMENTS);
    const amounts = events.flatMap((e) => (e.payment ? [e.payment.amount] : []));
    expect(new Set(amounts).size).toBe(PAYMENTS);

    // A reader starting from scratch afterwards sees exactly the same sequence.
    const replayed = await takeEvents(client, filter, 5 + PAYMENTS);
    expect(replayed.map((e) => e.cursor)).toEqual(events.map((e) => e.cursor));
  });

  it.skipIf(skip)("a tenant's 'all events' stream never contains another tenant's events", async () => {
    const alpha = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const beta = vaClient(gateway.url, TENANTS.beta.apiKey);
    await alpha.createVirtualAccount(createRequest());
    const { virtualAccount } = await beta.createVirtualAccount(createRequest());
    const betaEvents = await takeEvents(beta, {}, 1);
    expect(betaEvents.map((e) => e.virtualAccount?.id)).toEqual([virtualAccount?.id]);
  });

  it.skipIf(skip)("a live event reaches exactly the streams whose filter matches it", async () => {
    const alpha = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const beta = vaClient(gateway.url, TENANTS.beta.apiKey);
    const ref = `fan-out-${dialect}`;
    const first = (await alpha.createVirtualAccount(createRequest({ merchantReference: `${ref}-1` }))).virtualAccount;
    const second = (await alpha.createVirtualAccount(createRequest({ merchantReference: `${ref}-2` }))).virtualAccount;
    const third = (await beta.createVirtualAccount(createRequest({ merchantReference: `${ref}-3` }))).virtualAccount;
    const [created] = await takeEvents(beta, { filter: { case: "virtualAccountId", value: third?.id ?? "" } }, 1);
    const afterCursor = created?.cursor ?? "";
    const paidIds = (events: PaymentEvent[]) => events.map((e) => `${EventType[e.type]} ${e.virtualAccount?.id}`).sort();
    // Earlier streams (this test's and the previous ones') have let go once the count drops to zero.
    await eventually(async () => (gateway.hub.subscriberCount === 0 ? true : undefined));
    // Subscribed before the payments commit, so what they get is live fan-out, not replay.
    const streams = [
      takeEvents(alpha, { afterCursor }, 2),
      takeEvents(alpha, { filter: { case: "virtualAccountId", value: first?.id ?? "" }, afterCursor }, 1),
      takeEvents(alpha, { filter: { case: "merchantReference", value: `${ref}-2` }, afterCursor }, 1),
      takeEvents(beta, { afterCursor }, 1),
    ];
    await eventually(async () => (gateway.hub.subscriberCount === streams.length ? true : undefined));
    await alpha.simulatePayment({ virtualAccountId: first?.id ?? "" });
    await alpha.simulatePayment({ virtualAccountId: second?.id ?? "" });
    await beta.simulatePayment({ virtualAccountId: third?.id ?? "" });
    const [allAlpha, oneVa, byReference, allBeta] = await Promise.all(streams);
    expect(paidIds(allAlpha ?? [])).toEqual([`PAYMENT_RECEIVED ${first?.id}`, `PAYMENT_RECEIVED ${second?.id}`].sort());
    expect(paidIds(oneVa ?? [])).toEqual([`PAYMENT_RECEIVED ${first?.id}`]);
    expect(paidIds(byReference ?? [])).toEqual([`PAYMENT_RECEIVED ${second?.id}`]);
    expect(paidIds(allBeta ?? [])).toEqual([`PAYMENT_RECEIVED ${third?.id}`]);
  });
});

describe.skipIf(postgresSkip !== undefined)("two replicas on one PostgreSQL database", () => {
  let first: TestGateway;
  let second: TestGateway;

  beforeAll(async () => {
    first = await startTestGateway({ dialect: "postgresql" });
    second = await startTestGateway({
      dialect: "postgresql",
      config: { databaseUrl: first.database.orm.config.getClientUrl(), eventPollMs: 60_000 },
    });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it("both replicas stream the same events in the same order, woken by NOTIFY", async () => {
    const onFirst = vaClient(first.url, TENANTS.alpha.apiKey);
    const onSecond = vaClient(second.url, TENANTS.alpha.apiKey);
    const merchantReference = "replicas";
    const filter = { filter: { case: "merchantReference" as const, value: merchantReference } };
    const vas = await createMultiUseVas(onFirst, merchantReference, 3);
    // The second replica's poll is a minute: only LISTEN/NOTIFY can deliver these in time.
    const seenBySecond = takeEvents(onSecond, filter, 3 + PAYMENTS, 20_000);
    const seenByFirst = takeEvents(onFirst, filter, 3 + PAYMENTS, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    await payConcurrently(first, vas);
    const [a, b] = await Promise.all([seenByFirst, seenBySecond]);
    expect(b.map((e) => e.cursor)).toEqual(a.map((e) => e.cursor));
    expectStrictlyIncreasing(a);
  });
});
