import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventCause, EventType, PaymentOutcome, VirtualAccountStatus } from "../src/gen/va/v1/va_pb.js";
import type { SandboxKit } from "../src/sandbox/kit.js";
import { vaClient } from "./support/clients.js";
import { createRequest, eventually, takeEvents } from "./support/fixtures.js";
import { startTestGateway, TENANTS, type TestGateway } from "./support/gateway.js";

const MINUTE = 60_000;

/** Providers whose status API lists payments, so a lost callback can be found. */
describe.each(["sandbox", "durianpay"])("reconciliation finds %s payments whose callback never arrived", (provider) => {
  let gateway: TestGateway;
  let kit: SandboxKit;
  let client: ReturnType<typeof vaClient>;

  beforeAll(async () => {
    gateway = await startTestGateway({
      dialect: "sqlite",
      controlledClock: true,
      config: {
        sweepIntervalMs: 50,
        reconcile: { beforeExpiryMs: 10 * MINUTE, afterExpiryMs: 60 * MINUTE, baseDelayMs: 100, maxDelayMs: 1_000 },
      },
    });
    kit = gateway.sandboxKits.get(provider) as SandboxKit;
    kit.muteCallbacks?.(true);
    client = vaClient(gateway.url, TENANTS.alpha.apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const expiringIn = (ms: number) => timestampFromDate(new Date(gateway.now().getTime() + ms));
  const payments = async (id: string) => (await client.getPaymentStatus({ virtualAccountId: id })).payments;

  it("polls VAs near expiry and records what the provider reports, once, with cause STATUS_POLL", async () => {
    const { virtualAccount } = await client.createVirtualAccount(createRequest({ provider, expiresAt: expiringIn(5 * MINUTE) }));
    const id = virtualAccount?.id ?? "";
    const { providerPaymentReference } = await client.simulatePayment({ virtualAccountId: id });

    const [recorded] = await eventually(async () => ((await payments(id)).length > 0 ? payments(id) : undefined));
    expect(recorded?.providerPaymentReference).toBe(providerPaymentReference);
    expect(recorded?.outcome).toBe(PaymentOutcome.ACCEPTED);
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 2);
    expect(events[1]?.cause).toBe(EventCause.STATUS_POLL);
    // A further poll finds the same payment and records nothing more.
    await gateway.reconciler.runOnce();
    expect(await payments(id)).toHaveLength(1);
  });

  it("leaves VAs far from expiry alone until they come near it", async () => {
    const { virtualAccount } = await client.createVirtualAccount(createRequest({ provider, expiresAt: expiringIn(60 * MINUTE) }));
    const id = virtualAccount?.id ?? "";
    await client.simulatePayment({ virtualAccountId: id });
    await gateway.reconciler.runOnce();
    expect(await payments(id)).toHaveLength(0);
    gateway.advanceClock(55 * MINUTE);
    await eventually(async () => ((await payments(id)).length === 1 ? true : undefined));
  });

  // Only the sandbox can pay into an expired VA (it simulates the bank taking money before the close arrived).
  it.skipIf(provider !== "sandbox")("records a payment that lands after expiry as LATE", async () => {
    const { virtualAccount } = await client.createVirtualAccount(createRequest({ provider, expiresAt: expiringIn(2 * MINUTE) }));
    const id = virtualAccount?.id ?? "";
    gateway.advanceClock(3 * MINUTE);
    await eventually(async () => {
      const { virtualAccount: va } = await client.inquiryVirtualAccount({ virtualAccountId: id });
      return va?.status === VirtualAccountStatus.EXPIRED ? true : undefined;
    });
    await client.simulatePayment({ virtualAccountId: id });
    const [late] = await eventually(async () => ((await payments(id)).length > 0 ? payments(id) : undefined));
    expect(late?.outcome).toBe(PaymentOutcome.LATE);
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 3);
    expect(events.map((e) => e.type)).toEqual([
      EventType.VIRTUAL_ACCOUNT_CREATED,
      EventType.VIRTUAL_ACCOUNT_EXPIRED,
      EventType.PAYMENT_RECEIVED,
    ]);
  });
});
