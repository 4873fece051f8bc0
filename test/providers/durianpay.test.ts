import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import type { AmountRule, VaUsage } from "../../src/domain/virtual-account.js";
import { createDurianpayProvider, type DurianpayProvider } from "../../src/providers/durianpay/adapter.js";
import { durianpayCapabilities } from "../../src/providers/durianpay/capabilities.js";
import { readFetchPage } from "../../src/providers/durianpay/transformers.js";
import type { ProviderCreateRequest, ProviderVaRef } from "../../src/providers/provider.js";
import { type DurianpaySimulator, startDurianpaySimulator } from "../../src/sandbox/durianpay/simulator.js";
import { type RunningSimulator, startSimulatorServer } from "../../src/sandbox/simulator-kit.js";
import { createRequestBuilder, signal, startWebhookReceiver } from "../support/provider-harness.js";

const SERVER_KEY = "dp_test_k3Y9s3cr3tV4lu3";
const FAST_RETRIES = [5, 5, 5, 5, 5];

let simulator: DurianpaySimulator;
let provider: DurianpayProvider;
const closers: Array<() => Promise<void>> = [];

beforeEach(async () => {
  simulator = await startDurianpaySimulator({
    serverKey: SERVER_KEY,
    retryDelaysMs: FAST_RETRIES,
    bankRestrictions: { CIMB: ["STATIC_CLOSED_VA"] },
  });
  closers.push(() => simulator.close());
  provider = createDurianpayProvider({ baseUrl: simulator.url, serverKey: SERVER_KEY, providerAccount: "merchant-a" });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const draft = createRequestBuilder(() => ({
  bankCode: "PERMATA",
  customer: { name: "Ardi Hanan", email: "ardi@example.com", phone: "+6288888888" },
  description: "Order 42",
}));

async function create(overrides: Partial<ProviderCreateRequest> = {}): Promise<ProviderVaRef> {
  const request = draft(overrides);
  const created = await provider.createVirtualAccount(request, signal);
  return { ...created, bankCode: request.bankCode };
}

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

/** Our webhook route, answering as the application would; recording the first `failFirst` payments fails. */
async function startReceiver(failFirst = 0) {
  const receiver = await startWebhookReceiver(() => provider, { path: "/webhooks/durianpay", record: () => "RECORDED" });
  receiver.failRecording = failFirst;
  closers.push(() => receiver.close());
  simulator.setCallbackUrl(receiver.url);
  return receiver;
}

const webhook = (body: unknown) =>
  provider.receiveWebhook({
    method: "POST",
    path: "/webhooks/durianpay",
    headers: { "content-type": "application/json" },
    rawBody: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  });

describe("creating VAs", () => {
  const combinations: Array<[VaUsage, AmountRule]> = [
    ["SINGLE", { type: "FIXED", amount: 150_000n }],
    ["SINGLE", { type: "OPEN" }],
    ["SINGLE", { type: "RANGE", min: 10_000n, max: 20_000n }],
    ["MULTI", { type: "FIXED", amount: 999_999_999_999n }],
    ["MULTI", { type: "OPEN" }],
    ["MULTI", { type: "RANGE", min: 50_000n, max: 999_999_999_999n }],
  ];

  it.each(combinations)("issues a %s VA with amount %o and reads it back exactly", async (usage, amount) => {
    const expiresAt = new Date(Date.now() + 2 * 3_600_000 + 30_000);
    const va = await create({ usage, amount, expiresAt });
    const state = await provider.fetchVirtualAccount(va, signal);
    expect(state).toMatchObject({ providerReference: va.providerReference, vaNumber: va.vaNumber, usage, amount });
    expect(state.status).toBe("ACTIVE");
    // expiry_minutes is rounded down: the VA never outlives the expiry we asked for.
    expect(state.expiresAt.getTime()).toBeLessThanOrEqual(expiresAt.getTime());
    expect(state.expiresAt.getTime()).toBeGreaterThan(expiresAt.getTime() - 2 * 60_000);
  });

  it("sends the documented wire fields, with va_ref_id derived from externalId", async () => {
    const now = new Date();
    const clocked = createDurianpayProvider({
      baseUrl: simulator.url,
      serverKey: SERVER_KEY,
      providerAccount: "m",
      now: () => now,
    });
    const request = draft({
      usage: "MULTI",
      amount: { type: "RANGE", min: 10_000n, max: 25_000n },
      numberSuffix: "1234",
      expiresAt: new Date(now.getTime() + 59 * 60_000 + 59_999),
    });
    await clocked.createVirtualAccount(request, signal);
    const sent = JSON.parse(simulator.requests.at(-1)?.body ?? "{}");
    expect(sent).toMatchObject({
      bank_code: "PERMATA",
      name: "Ardi Hanan",
      is_closed: false,
      is_reusable: true,
      min_amount: 10_000,
      max_amount: 25_000,
      account_suffix: "1234",
      va_ref_id: request.externalId,
      auto_disable_after_payment: false,
      customer: { given_name: "Ardi Hanan", email: "ardi@example.com", mobile: "+6288888888" },
    });
    expect(sent.expiry_minutes).toBe(59);
    expect(sent.amount).toBeUndefined();
  });

  it("puts the requested suffix at the end of the number", async () => {
    const va = await create({ numberSuffix: "123456" });
    expect(va.vaNumber).toBe("88565004123456");
    expect(va.providerAccount).toBe("merchant-a");
  });

  it.each(durianpayCapabilities.banks.map((bank) => [bank.bankCode, bank] as const))(
    "%s takes suffixes up to its documented length and issues numbers within the capability table",
    async (bankCode, bank) => {
      const random = await create({ bankCode, usage: "MULTI", amount: { type: "OPEN" } });
      const longest = await create({ bankCode, numberSuffix: "7".repeat(bank.maxSuffixDigits) });
      for (const va of [random, longest]) {
        expect(va.vaNumber.length).toBeGreaterThanOrEqual(bank.vaNumberDigits.min);
        expect(va.vaNumber.length).toBeLessThanOrEqual(bank.vaNumberDigits.max);
      }
      const error = await refusal(create({ bankCode, numberSuffix: "7".repeat(bank.maxSuffixDigits + 1) }));
      expect(error.kind).toBe("INVALID_ARGUMENT");
      expect(error.facts.field).toBe("number_suffix");
    },
  );
});

describe("refusals mapped to our fields", () => {
  it.each([
    ["a suffix longer than MANDIRI's 7 digits", { bankCode: "MANDIRI", numberSuffix: "12345678" }, "number_suffix"],
    ["a bank Durianpay does not serve", { bankCode: "BNI" }, "bank_code"],
    ["a customer without a name", { customer: { name: " ", email: "a@example.com", phone: "" } }, "customer.name"],
    ["a customer without email or phone", { customer: { name: "Ardi", email: "", phone: "" } }, "customer"],
    ["an expiry already past", { expiresAt: new Date(Date.now() - 60_000) }, "expires_at"],
    ["a fixed amount of zero", { amount: { type: "FIXED", amount: 0n } }, "amount.fixed.amount"],
    ["a range minimum of zero", { amount: { type: "RANGE", min: 0n, max: 10_000n } }, "amount.range.min"],
    ["a range maximum below its minimum", { amount: { type: "RANGE", min: 10_000n, max: 5_000n } }, "amount.range.max"],
  ] satisfies Array<[string, Partial<ProviderCreateRequest>, string]>)("refuses %s", async (_, overrides, field) => {
    const error = await refusal(provider.createVirtualAccount(draft(overrides), signal));
    expect(error.kind).toBe("INVALID_ARGUMENT");
    expect(error.facts).toMatchObject({ field, provider: "durianpay", providerCode: "DPAY_INVALID_REQUEST" });
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it("names the bank rule behind DPAY_STATIC_CLOSED_VA_NOT_SUPPORTED", async () => {
    const error = await refusal(create({ bankCode: "CIMB", usage: "MULTI", amount: { type: "FIXED", amount: 10_000n } }));
    expect(error.kind).toBe("INVALID_ARGUMENT");
    expect(error.facts).toMatchObject({ field: "usage", providerCode: "DPAY_STATIC_CLOSED_VA_NOT_SUPPORTED" });
    expect(error.message).toContain("multi-use VAs with a fixed amount");
    // The same bank still issues the combinations it supports.
    await create({ bankCode: "CIMB", usage: "SINGLE", amount: { type: "FIXED", amount: 10_000n } });
  });

  it("reports a VA number that is already taken as ALREADY_EXISTS", async () => {
    await create({ numberSuffix: "555" });
    const error = await refusal(create({ numberSuffix: "555" }));
    expect(error.kind).toBe("ALREADY_EXISTS");
    expect(error.facts).toMatchObject({ field: "number_suffix", providerCode: "DPAY_INTERNAL_ERROR" });
  });

  it("refuses a wrong server key without revealing it", async () => {
    const wrongKey = "dp_test_wr0ngS3cr3tK3y";
    const stranger = createDurianpayProvider({ baseUrl: simulator.url, serverKey: wrongKey, providerAccount: "x" });
    const error = await refusal(stranger.createVirtualAccount(draft(), signal));
    expect(error.kind).toBe("FAILED_PRECONDITION");
    expect(error.facts.providerCode).toBe("DPAY_UNAUTHORIZED_ACCESS");
    const everything = `${error.message} ${JSON.stringify(error.facts)} ${error.stack}`;
    expect(everything).not.toContain(wrongKey);
    expect(everything).not.toContain(Buffer.from(`${wrongKey}:`).toString("base64"));
    expect(everything).not.toContain(SERVER_KEY);
  });

  it("reports an unreachable API as UNAVAILABLE", async () => {
    await simulator.close();
    const error = await refusal(provider.createVirtualAccount(draft(), signal));
    expect(error.kind).toBe("UNAVAILABLE");
  });
});

describe("cancel and update", () => {
  it("cancels through PATCH /v1/payments/va/:id with expiry_minutes 0", async () => {
    const va = await create();
    await provider.cancelVirtualAccount(va, signal);
    expect(simulator.requests.at(-1)).toEqual({
      method: "PATCH",
      path: `/v1/payments/va/${va.providerReference}`,
      body: '{"expiry_minutes":0}',
    });
    expect((await provider.fetchVirtualAccount(va, signal)).status).toBe("EXPIRED");
    const error = await refusal(provider.simulatePayment(va, 150_000n, signal));
    expect(error.kind).toBe("FAILED_PRECONDITION");
    expect(error.message).toContain("VA Expired");
  });

  it("cannot cancel a paid single-use VA", async () => {
    const va = await create();
    await provider.simulatePayment(va, 150_000n, signal);
    const error = await refusal(provider.cancelVirtualAccount(va, signal));
    expect(error.kind).toBe("FAILED_PRECONDITION");
    expect(error.facts.providerCode).toBe("DPAY_CANNOT_PATCH_PAID_VA");
  });

  it("reports an unknown VA as NOT_FOUND", async () => {
    const va = await create();
    const error = await refusal(provider.cancelVirtualAccount({ ...va, providerReference: "va_doesNotExist0001" }, signal));
    expect(error.kind).toBe("NOT_FOUND");
  });

  it("updates the amount and expiry, and disables and enables payments", async () => {
    const va = await create({ usage: "MULTI" });
    const expiresAt = new Date(Date.now() + 48 * 3_600_000);
    await provider.updateVirtualAccount(va, { amount: { type: "FIXED", amount: 175_000n }, expiresAt }, signal);
    const updated = await provider.fetchVirtualAccount(va, signal);
    expect(updated.amount).toEqual({ type: "FIXED", amount: 175_000n });
    expect(expiresAt.getTime() - updated.expiresAt.getTime()).toBeLessThan(60_000);

    await provider.setVirtualAccountDisabled(va, true, signal);
    expect((await provider.fetchVirtualAccount(va, signal)).disabled).toBe(true);
    expect((await refusal(provider.simulatePayment(va, 175_000n, signal))).message).toContain("VA Disabled");
    await provider.setVirtualAccountDisabled(va, false, signal);
    await provider.simulatePayment(va, 175_000n, signal);
    expect(simulator.ledger).toHaveLength(1);
  });
});

describe("webhooks", () => {
  it("reports a genuine payment with the exact amount and Durianpay's payment id", async () => {
    const receiver = await startReceiver();
    const va = await create({ amount: { type: "FIXED", amount: 987_654_321_012n } });
    const { providerPaymentRef } = await provider.simulatePayment(va, 987_654_321_012n, signal);
    await simulator.idle();

    const [entry] = simulator.ledger;
    expect(providerPaymentRef).toBe(entry?.paymentId);
    expect(receiver.results).toHaveLength(1);
    const result = receiver.results[0];
    if (result?.kind !== "payment") throw new Error(`expected a payment, got ${JSON.stringify(result)}`);
    expect(result.notification).toMatchObject({
      providerAccount: "merchant-a",
      providerPaymentRef,
      vaNumber: va.vaNumber,
      amount: 987_654_321_012n,
      fee: undefined,
      paidAt: entry?.paidAt,
    });
    expect(typeof result.notification.amount).toBe("bigint");
    expect(result.notification.providerVaId).toBe(va.providerReference);
    // The published flat shape: no event envelope, the VA named in metadata.
    expect(JSON.parse(result.notification.rawPayload)).toMatchObject({ id: providerPaymentRef, status: "completed" });
    expect(simulator.deliveries[0]).toMatchObject({ attempts: 1, acknowledged: true, lastStatus: 200 });
    // Unsigned as far as we can tell: believed only once Durianpay's API confirms it.
    expect(result.belief.verified).toBe(false);
    const confirmed = await provider.confirmPayment?.(result.notification, signal);
    expect(confirmed).toEqual({ paid: true, notification: { ...result.notification, providerVaId: va.providerReference } });
    expect(result.answer("DUPLICATE").status).toBe(200);
    // Held (stored for confirmation or for a VA we do not know yet): Durianpay may stop retrying.
    expect(result.answer("HELD").status).toBe(200);
    expect(result.answer("REFUTED").status).toBe(404);
  });

  it("keeps the same providerPaymentRef when the webhook is retried", async () => {
    const receiver = await startReceiver(1);
    const va = await create({ usage: "MULTI", amount: { type: "OPEN" } });
    await provider.simulatePayment(va, 12_345n, signal);
    await simulator.idle();
    expect(simulator.deliveries[0]).toMatchObject({ attempts: 2, acknowledged: true });
    const refs = receiver.results.map((r) => (r.kind === "payment" ? r.notification.providerPaymentRef : r.reason));
    expect(refs).toEqual([simulator.ledger[0]?.paymentId, simulator.ledger[0]?.paymentId]);
  });

  it("finds an older payment of a multi-use VA across pages", async () => {
    await simulator.close();
    simulator = await startDurianpaySimulator({ serverKey: SERVER_KEY, paymentsPageSize: 2 });
    closers.push(() => simulator.close());
    provider = createDurianpayProvider({
      baseUrl: simulator.url,
      serverKey: SERVER_KEY,
      providerAccount: "merchant-a",
    });
    const va = await create({ usage: "MULTI", amount: { type: "OPEN" } });
    for (const amount of [1_000n, 2_000n, 3_000n, 4_000n, 5_000n]) simulator.simulatePayment(va.vaNumber, amount);
    const oldest = simulator.ledger[0];
    const result = await webhook({
      event: "payment.completed",
      data: { id: oldest?.paymentId, virtual_account_id: va.providerReference, amount_str: "1000.00" },
    });
    if (result.kind !== "payment") throw new Error("expected a payment claim");
    expect(await provider.confirmPayment?.(result.notification, signal)).toMatchObject({
      paid: true,
      notification: { providerPaymentRef: oldest?.paymentId, amount: 1_000n, vaNumber: va.vaNumber },
    });
    const state = await provider.fetchVirtualAccount(va, signal);
    expect(state.payments.map((p) => p.amount)).toEqual([5_000n, 4_000n, 3_000n, 2_000n, 1_000n]);
    expect(state.status).toBe("PAID");
  });

  /** The claim a webhook makes and what Durianpay's API says of it. */
  async function confirmed(body: unknown) {
    const result = await webhook(body);
    if (result.kind !== "payment") throw new Error(`expected a payment claim, got ${JSON.stringify(result)}`);
    expect(result.belief.verified).toBe(false);
    return provider.confirmPayment?.(result.notification, signal);
  }

  it("is denied by the API for a forged webhook for a payment the simulator never made", async () => {
    const va = await create();
    const answer = await confirmed({
      id: "pay_forgedPaymnt0001",
      amount: 15_000_000,
      status: "completed",
      metadata: { static_va_id: va.providerReference, static_va_account_number: va.vaNumber },
      amount_str: "150000.00",
    });
    expect(answer).toMatchObject({ paid: false });
    expect(simulator.ledger).toHaveLength(0);
  });

  it("takes Durianpay's amount, not the claim's, for a genuine payment id replayed with another amount", async () => {
    const va = await create({ usage: "MULTI", amount: { type: "OPEN" } });
    const paid = simulator.simulatePayment(va.vaNumber, 10_000n);
    const answer = await confirmed({
      event: "payment.completed",
      data: { id: paid.paymentId, virtual_account_id: va.providerReference, amount_str: "10000000.00" },
    });
    expect(answer).toMatchObject({ paid: true, notification: { providerPaymentRef: paid.paymentId, amount: 10_000n } });
  });

  it("is denied by the API for a webhook naming a VA Durianpay does not know", async () => {
    const answer = await confirmed({
      event: "payment.completed",
      data: { id: "pay_forgedPaymnt0002", virtual_account_id: "va_unknownVa0000001", amount_str: "1.00" },
    });
    expect(answer).toMatchObject({ paid: false });
  });

  it("reads the event from the path Durianpay appends to the base URL", async () => {
    const body = { id: "pay_x", status: "completed", amount_str: "1.00", metadata: { static_va_id: "va_y" } };
    const at = (path: string) =>
      provider.receiveWebhook({ method: "POST", path, headers: {}, rawBody: Buffer.from(JSON.stringify(body)) });
    expect(await at("/webhooks/durianpay/payment.completed")).toMatchObject({ kind: "payment" });
    expect(await at("/webhooks/durianpay/payment.failed")).toMatchObject({ kind: "rejected", answer: { status: 200 } });
  });

  it.each([
    ["not JSON", "{nope"],
    [
      "a fractional amount",
      { event: "payment.completed", data: { id: "pay_x", virtual_account_id: "va_y", amount_str: "1.50" } },
    ],
    [
      "an amount in hundredths that is not whole rupiah",
      { id: "pay_x", status: "completed", amount: 150, metadata: { static_va_id: "va_y" } },
    ],
  ])("rejects a webhook with %s as a 400 without throwing", async (_, body) => {
    expect(await webhook(body)).toMatchObject({ kind: "rejected", answer: { status: 400 } });
  });

  it.each([
    ["an order event", { event: "order.created", data: { id: "ord_1" } }],
    ["the published order object (status started)", { id: "ord_1", amount: 100, status: "started", amount_str: "1.00" }],
    [
      "a completed payment naming no VA (a checkout payment)",
      { event: "payment.completed", data: { id: "pay_x", amount_str: "1.00" } },
    ],
  ])("acknowledges %s with 200 without reporting a payment", async (_, body) => {
    expect(await webhook(body)).toMatchObject({ kind: "rejected", answer: { status: 200 } });
  });

  it("cannot confirm while the API is unreachable (the core then holds the payment)", async () => {
    const va = await create();
    const paid = simulator.simulatePayment(va.vaNumber, 150_000n);
    await simulator.close();
    const error = await refusal(
      confirmed({
        event: "payment.completed",
        data: { id: paid.paymentId, virtual_account_id: va.providerReference, amount_str: "150000.00" },
      }) as Promise<unknown>,
    );
    expect(error.kind).toBe("UNAVAILABLE");
  });
});

describe("reconciliation and retried creates", () => {
  it("lists every payment of a VA with the webhook's payment id and the VA's identity", async () => {
    const va = await create({ usage: "MULTI", amount: { type: "OPEN" } });
    const first = simulator.simulatePayment(va.vaNumber, 1_000n);
    const second = simulator.simulatePayment(va.vaNumber, 2_000n);
    const polled = await provider.fetchPayments?.(va, signal);
    expect(polled?.map((p) => [p.providerPaymentRef, p.amount, p.providerVaId, p.paidAt])).toEqual([
      [second.paymentId, 2_000n, va.providerReference, second.paidAt],
      [first.paymentId, 1_000n, va.providerReference, first.paidAt],
    ]);
  });

  it("adopts the VA an attempt with the same externalId made, even when its answer was lost", async () => {
    const request = draft();
    simulator.misbehave.loseNextCreateAnswer();
    expect((await refusal(provider.createVirtualAccount(request, signal))).kind).toBe("UNAVAILABLE");
    const adopted = await provider.createVirtualAccount(request, signal);
    const again = await provider.createVirtualAccount(request, signal);
    expect(again).toEqual(adopted);
    const creates = simulator.requests.filter((r) => r.method === "POST" && r.path === "/v1/payments/va");
    expect(creates).toHaveLength(1);
    expect(JSON.parse(creates[0]?.body ?? "{}").va_ref_id).toBe(request.externalId);
    // Another key makes another VA.
    expect((await provider.createVirtualAccount(draft(), signal)).providerReference).not.toBe(adopted.providerReference);
  });

  it("looks back only as far as configured: a later retry makes a second VA", async () => {
    let clock = new Date();
    const forgetful = createDurianpayProvider({
      baseUrl: simulator.url,
      serverKey: SERVER_KEY,
      providerAccount: "merchant-a",
      adoptLookbackMs: 60_000,
      now: () => clock,
    });
    const request = draft({ expiresAt: new Date(clock.getTime() + 48 * 3_600_000) });
    const first = await forgetful.createVirtualAccount(request, signal);
    clock = new Date(clock.getTime() + 10 * 60_000);
    expect((await forgetful.createVirtualAccount(request, signal)).providerReference).not.toBe(first.providerReference);
  });

  it("gives a suffix-based number again once the VA holding it has expired, and keeps the two apart", async () => {
    const old = await create({ numberSuffix: "24680" });
    await provider.cancelVirtualAccount(old, signal);
    const reissued = await create({ numberSuffix: "24680" });
    expect(reissued.vaNumber).toBe(old.vaNumber);
    expect(reissued.providerReference).not.toBe(old.providerReference);
    const paid = simulator.simulatePayment(reissued.vaNumber, 150_000n);
    expect(paid.virtualAccountId).toBe(reissued.providerReference);
    expect((await provider.fetchPayments?.(old, signal))?.length).toBe(0);
  });
});

describe("webhook retry schedule", () => {
  async function deliveriesAnswered(status: number) {
    const target: RunningSimulator = await startSimulatorServer(() => ({ status, body: {} }));
    closers.push(() => target.close());
    simulator.setCallbackUrl(target.url);
    const va = await create();
    simulator.simulatePayment(va.vaNumber, 150_000n);
    await simulator.idle();
    return simulator.deliveries[0];
  }

  it("retries five times after the first attempt while the answer is not 200", async () => {
    expect(await deliveriesAnswered(503)).toMatchObject({ attempts: 6, acknowledged: false, lastStatus: 503 });
  });

  it("retries a 4xx too: Durianpay only stops on 200", async () => {
    expect(await deliveriesAnswered(400)).toMatchObject({ attempts: 6, acknowledged: false, lastStatus: 400 });
  });

  it("stops at the first 200", async () => {
    expect(await deliveriesAnswered(200)).toMatchObject({ attempts: 1, acknowledged: true });
  });
});

describe("exact money on the wire", () => {
  const page = (amount: string) =>
    `{"data":{"virtual_account":{"id":"va_1","bank_code":"BCA","account_number":"3901100001","is_closed":true,` +
    `"amount":${amount},"expiry_at":"2030-01-01T00:00:00Z","is_disabled":false,"is_paid":false,"is_reusable":false},` +
    `"virtual_account_status":"VirtualAccountActive","payments":[]}}`;

  it("reads a JSON number amount exactly when it is a safe integer", () => {
    expect(readFetchPage(JSON.parse(page("999999999999"))).state.amount).toEqual({
      type: "FIXED",
      amount: 999_999_999_999n,
    });
  });

  it.each(["9007199254740993", "12000.12", "-5", "1e21"])("refuses %s instead of rounding it", (amount) => {
    expect(() => readFetchPage(JSON.parse(page(amount)))).toThrow(/virtual_account.amount/);
  });
});
