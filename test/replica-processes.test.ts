import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType, PaymentOutcome, VaUsage, VirtualAccountStatus } from "../src/gen/va/v1/va_pb.js";
import { freePort, ServiceProcess } from "./crash/service-process.js";
import { vaClient } from "./support/clients.js";
import { createPostgresDatabase, postgresUnavailableReason } from "./support/databases.js";
import { createRequest, sandboxCallback, sandboxPaymentId, takeEvents } from "./support/fixtures.js";
import { SANDBOX_SECRETS, TENANTS } from "./support/gateway.js";

const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] two service processes on PostgreSQL: ${postgresSkip}`);

/** Two real service processes (`src/main.ts`) sharing one PostgreSQL database, as replicas would. */
describe.skipIf(postgresSkip !== undefined)("two service processes on one PostgreSQL database", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const replicas: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const env = {
      DATABASE_URL: database.url,
      VA_API_KEYS: `${TENANTS.alpha.tenantId}=${TENANTS.alpha.apiKey}`,
      SANDBOX_MERCHANT_ID: SANDBOX_SECRETS.merchantId,
      SANDBOX_API_KEY: SANDBOX_SECRETS.apiKey,
      SANDBOX_WEBHOOK_SECRET: SANDBOX_SECRETS.webhookSecret,
    };
    for (let i = 0; i < 2; i++) replicas.push(new ServiceProcess(await freePort(), env, true));
    // One at a time: both apply migrations on start, and the second must find them applied.
    for (const replica of replicas) await replica.start(120_000);
  }, 300_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await database?.drop();
  });

  const client = (i: number) => vaClient((replicas[i] as ServiceProcess).url, TENANTS.alpha.apiKey);

  async function payThrough(i: number, va: { providerReference: string; vaNumber: string; bankCode: string }, amount = 25_000n) {
    const callback = sandboxCallback(SANDBOX_SECRETS, new Date(), va, { id: sandboxPaymentId(), amount });
    const response = await fetch(`${(replicas[i] as ServiceProcess).url}/webhooks/sandbox`, { method: "POST", ...callback });
    expect(response.status).toBe(200);
  }

  it("concurrent payments through both processes: both streams show every event once, in the same order", async () => {
    const merchantReference = `processes-${Date.now()}`;
    const { virtualAccount } = await client(0).createVirtualAccount(
      createRequest({ merchantReference, usage: VaUsage.MULTI, amount: { rule: { case: "open", value: {} } } }),
    );
    const va = virtualAccount as NonNullable<typeof virtualAccount>;
    const filter = { filter: { case: "merchantReference" as const, value: merchantReference } };
    const seen = [takeEvents(client(0), filter, 41, 30_000), takeEvents(client(1), filter, 41, 30_000)];
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all(Array.from({ length: 40 }, (_, n) => payThrough(n % 2, va, BigInt(1_000 + n))));
    const [a, b] = await Promise.all(seen);
    expect(b?.map((e) => e.cursor)).toEqual(a?.map((e) => e.cursor));
    expect(a?.filter((e) => e.type === EventType.PAYMENT_RECEIVED)).toHaveLength(40);
    const status = await client(1).getPaymentStatus({ virtualAccountId: va.id });
    expect(status.virtualAccount?.paidAmount).toBe(BigInt(40 * 1_000 + (39 * 40) / 2));
  });

  it("cancel on one process racing a payment on the other: one consistent story", async () => {
    for (let round = 0; round < 6; round++) {
      const { virtualAccount } = await client(0).createVirtualAccount(createRequest());
      const va = virtualAccount as NonNullable<typeof virtualAccount>;
      const [cancel] = await Promise.allSettled([
        client(0).cancelVirtualAccount({ virtualAccountId: va.id, idempotencyKey: `race-${va.id}` }),
        payThrough(1, va),
      ]);
      const status = await client(1).getPaymentStatus({ virtualAccountId: va.id });
      expect(status.payments).toHaveLength(1);
      if (cancel.status === "fulfilled") {
        expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.CANCELLED);
        expect(status.payments[0]?.outcome).toBe(PaymentOutcome.LATE);
      } else {
        expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);
        expect(status.payments[0]?.outcome).toBe(PaymentOutcome.ACCEPTED);
      }
    }
  });
});
