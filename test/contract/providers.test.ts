import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AmountRuleSchema,
  AmountType,
  type BankCapability,
  ErrorDetailSchema,
  EventType,
  type VaCombination,
  VaUsage,
  type VirtualAccount,
  VirtualAccountStatus,
} from "../../src/gen/va/v1/va_pb.js";
import { sandboxKitFactories } from "../../src/sandbox/catalog.js";
import type { SandboxKit } from "../../src/sandbox/kit.js";
import type { CallbackDelivery } from "../../src/sandbox/simulator-kit.js";
import { vaClient } from "../support/clients.js";
import { createRequest, rejection, takeEvents } from "../support/fixtures.js";
import { startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";

/**
 * One suite, every provider: each adapter against its simulator, driven through the public RPCs and
 * webhook routes of a real gateway. A new provider joins by appearing in `sandboxKitFactories`.
 */
const PROVIDERS = [...sandboxKitFactories().keys()];

const AMOUNTS: Record<AmountType, MessageInitShape<typeof AmountRuleSchema>> = {
  [AmountType.UNSPECIFIED]: {},
  [AmountType.FIXED]: { rule: { case: "fixed", value: { amount: 25_000n } } },
  [AmountType.OPEN]: { rule: { case: "open", value: {} } },
  [AmountType.RANGE]: { rule: { case: "range", value: { min: 10_000n, max: 50_000n } } },
};

let gateway: TestGateway;
let client: ReturnType<typeof vaClient>;

beforeAll(async () => {
  gateway = await startTestGateway({ dialect: "sqlite" });
  client = vaClient(gateway.url, TENANTS.alpha.apiKey);
});
afterAll(async () => {
  await gateway?.stop();
});

const post = (delivery: CallbackDelivery) =>
  fetch(delivery.url, { method: "POST", headers: delivery.headers, body: delivery.body }).then(async (r) => ({
    status: r.status,
    body: await r.text(),
  }));

const refOf = (va: VirtualAccount) => ({
  providerAccount: "",
  providerReference: va.providerReference,
  vaNumber: va.vaNumber,
  bankCode: va.bankCode,
});

async function paymentEvents(id: string, expected: number) {
  const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 1 + expected);
  return events.filter((e) => e.type === EventType.PAYMENT_RECEIVED);
}

describe.each(PROVIDERS)("provider %s", (name) => {
  let kit: SandboxKit;
  let bank: BankCapability;

  beforeAll(async () => {
    kit = gateway.sandboxKits.get(name) as SandboxKit;
    const { providers } = await client.getCapabilities({ provider: name });
    expect(providers.map((p) => p.provider)).toEqual([name]);
    bank = providers[0]?.banks[0] as BankCapability;
    expect(bank?.combinations.length).toBeGreaterThan(0);
  });

  const create = (usage: VaUsage, amountType: AmountType) =>
    client.createVirtualAccount(
      createRequest({
        provider: name,
        bankCode: bank.bankCode,
        usage,
        amount: AMOUNTS[amountType],
        customer: { name: "Budi Santoso", email: "budi@example.co.id", phone: "+6281234567890" },
      }),
    );

  it("creates every supported usage × amount type, with numbers of the advertised length", async () => {
    for (const { usage, amountType } of bank.combinations) {
      const { virtualAccount } = await create(usage, amountType);
      expect(virtualAccount?.status).toBe(VirtualAccountStatus.ACTIVE);
      expect(virtualAccount?.provider).toBe(name);
      expect(virtualAccount?.usage).toBe(usage);
      const digits = virtualAccount?.vaNumber.length ?? 0;
      expect(virtualAccount?.vaNumber).toMatch(/^[0-9]+$/);
      expect(digits).toBeGreaterThanOrEqual(bank.minVaNumberDigits);
      expect(digits).toBeLessThanOrEqual(bank.maxVaNumberDigits);

      const { virtualAccount: inquired } = await client.inquiryVirtualAccount({ virtualAccountId: virtualAccount?.id ?? "" });
      expect(inquired).toEqual(virtualAccount);
      const status = await client.getPaymentStatus({ virtualAccountId: virtualAccount?.id ?? "" });
      expect(status.payments).toEqual([]);
    }
  });

  it("simulated payment → signed callback → recorded once → streamed; a duplicate callback changes nothing", async () => {
    const { usage, amountType } = bank.combinations[0] as { usage: VaUsage; amountType: AmountType };
    const { virtualAccount } = await create(usage, amountType);
    const id = virtualAccount?.id ?? "";
    const { providerPaymentReference } = await client.simulatePayment({ virtualAccountId: id });

    const [received] = await paymentEvents(id, 1);
    expect(received?.payment?.providerPaymentReference).toBe(providerPaymentReference);
    const paid = kit.payments().find((p) => p.providerPaymentRef === providerPaymentReference);
    expect(paid?.amount).toBe(received?.payment?.amount);

    await kit.idle();
    const duplicate = kit.lastDelivery();
    expect(duplicate).toBeDefined();
    const answer = await post(duplicate as CallbackDelivery);
    expect(answer.status).toBeLessThan(500);
    const status = await client.getPaymentStatus({ virtualAccountId: id });
    expect(status.payments).toHaveLength(1);
    expect(await paymentEvents(id, 1)).toHaveLength(1);
  });

  // Unsigned callbacks whose refusal is final for the provider (Ayoconnect never retries a 4xx) are
  // held while the provider's status may lag, and refuted later (test/misbehaviour covers that part).
  it("a forged callback is refused with a provider-shaped 4xx (or held, where the provider is unsigned and its refusals final) and records nothing", async () => {
    const { usage, amountType } = bank.combinations[0] as { usage: VaUsage; amountType: AmountType };
    const { virtualAccount } = await create(usage, amountType);
    const answer = await post(kit.forgeCallback(refOf(virtualAccount as VirtualAccount), 25_000n));
    if (name === "ayoconnect") expect(answer.status).toBe(201);
    else expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body).not.toMatch(/\n\s+at /);
    const status = await client.getPaymentStatus({ virtualAccountId: virtualAccount?.id ?? "" });
    expect(status.payments).toEqual([]);
  });

  it("cancels where the bank allows it, and refuses up front where it does not", async () => {
    const { usage, amountType } = bank.combinations[0] as { usage: VaUsage; amountType: AmountType };
    const { virtualAccount } = await create(usage, amountType);
    const id = virtualAccount?.id ?? "";
    const cancel = client.cancelVirtualAccount({ virtualAccountId: id, idempotencyKey: `cancel-${id}` });
    if (bank.canCancel) {
      expect((await cancel).virtualAccount?.status).toBe(VirtualAccountStatus.CANCELLED);
    } else {
      await expect(cancel).rejects.toMatchObject({ code: 9 });
    }
  });

  it("updates amount and expiry where the provider supports it, and refuses up front where not", async () => {
    const combination =
      bank.combinations.find((c) => c.amountType === AmountType.FIXED) ?? (bank.combinations[0] as VaCombination);
    const { virtualAccount } = await create(combination.usage, combination.amountType);
    const id = virtualAccount?.id ?? "";
    const expiresAt = timestampFromDate(new Date(Date.now() + 48 * 3_600_000));
    const amount =
      combination.amountType === AmountType.FIXED ? { rule: { case: "fixed" as const, value: { amount: 30_000n } } } : undefined;
    const update = client.updateVirtualAccount({ virtualAccountId: id, expiresAt, amount });
    if (!bank.canUpdate) {
      expect((await rejection(update)).code).toBe(9);
      return;
    }
    const { virtualAccount: updated } = await update;
    expect(updated?.expiresAt?.seconds).toBe(expiresAt.seconds);
    if (amount) expect(updated?.amount?.rule).toEqual({ case: "fixed", value: expect.objectContaining({ amount: 30_000n }) });
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 2);
    expect(events[1]?.type).toBe(EventType.VIRTUAL_ACCOUNT_UPDATED);
  });

  it("refuses a bank and a combination it does not support before calling the provider", async () => {
    const before = kit.payments().length;
    const error = await rejection(client.createVirtualAccount(createRequest({ provider: name, bankCode: "NOSUCHBANK" })));
    expect(error.code).toBe(3);
    expect(error.findDetails(ErrorDetailSchema)[0]?.field).toBe("bank_code");

    const all = [VaUsage.SINGLE, VaUsage.MULTI].flatMap((usage) =>
      [AmountType.FIXED, AmountType.OPEN, AmountType.RANGE].map((amountType) => ({ usage, amountType })),
    );
    const unsupported = all.find((c) => !bank.combinations.some((s) => s.usage === c.usage && s.amountType === c.amountType));
    if (unsupported) {
      const refused = await rejection(create(unsupported.usage, unsupported.amountType));
      expect(refused.code).toBe(3);
      expect(refused.findDetails(ErrorDetailSchema)[0]?.field).toBe("amount");
      expect(refused.rawMessage).toContain(name);
    }
    expect(kit.payments().length).toBe(before);
  });
});

describe("GetCapabilities", () => {
  it("lists every configured provider, and narrows by provider and bank", async () => {
    const all = await client.getCapabilities({});
    expect(all.providers.map((p) => p.provider).sort()).toEqual([...PROVIDERS].sort());
    const bca = await client.getCapabilities({ bankCode: "BCA" });
    expect(bca.providers.length).toBeGreaterThan(0);
    for (const provider of bca.providers) expect(provider.banks.map((b) => b.bankCode)).toEqual(["BCA"]);
  });
});
