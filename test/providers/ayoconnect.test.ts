import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import type { AmountRule, VaUsage } from "../../src/domain/virtual-account.js";
import { type AyoconnectProvider, createAyoconnectProvider } from "../../src/providers/ayoconnect/adapter.js";
import { ayoconnectCapabilities } from "../../src/providers/ayoconnect/capabilities.js";
import { type AyoconnectSimulator, startAyoconnectSimulator } from "../../src/providers/ayoconnect/simulator.js";
import { AYOCONNECT_STATUS_TO_OURS } from "../../src/providers/ayoconnect/transformers.js";
import type { ProviderCreateRequest, ProviderVaRef, WebhookResult } from "../../src/providers/provider.js";
import { startSimulatorServer } from "../../src/providers/simulator-kit.js";

const CLIENT_ID = "ayo-client-7f3a";
const CLIENT_SECRET = "ayo-s3cr3t-9QzW2x";
const MERCHANT_CODE = "MRC042";

let simulatorTime: number;
let adapterTime: number;
let simulator: AyoconnectSimulator;
let provider: AyoconnectProvider;
const closers: Array<() => Promise<void>> = [];

beforeEach(async () => {
  simulatorTime = adapterTime = Date.now();
  simulator = await startAyoconnectSimulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    merchantCode: MERCHANT_CODE,
    retryDelaysMs: [5, 5, 5],
    now: () => new Date(simulatorTime),
  });
  closers.push(() => simulator.close());
  provider = adapterFor(CLIENT_SECRET);
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function adapterFor(clientSecret: string) {
  return createAyoconnectProvider({
    baseUrl: simulator.url,
    clientId: CLIENT_ID,
    clientSecret,
    merchantCode: MERCHANT_CODE,
    now: () => new Date(adapterTime),
  });
}

const signal = () => AbortSignal.timeout(5_000);

function draft(overrides: Partial<ProviderCreateRequest> = {}): ProviderCreateRequest {
  return {
    externalId: `ext-${randomUUID()}`,
    bankCode: "BRI",
    usage: "SINGLE",
    amount: { type: "FIXED", amount: 2_650_000n },
    expiresAt: new Date(adapterTime + 6 * 3_600_000),
    customer: { name: "Pembayaran Tagihan X", email: "", phone: "+62172439389" },
    numberSuffix: "",
    description: "Motorcycle payment",
    ...overrides,
  };
}

async function create(overrides: Partial<ProviderCreateRequest> = {}): Promise<ProviderVaRef> {
  const request = draft(overrides);
  return { ...(await provider.createVirtualAccount(request, signal())), bankCode: request.bankCode };
}

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

const tokenRequests = () => simulator.requests.filter((r) => r.path.endsWith("/accesstoken")).length;

/** Our callback route: hands each request to the adapter; the first `failFirst` payments get a 500. */
async function startReceiver(failFirst = 0) {
  const results: WebhookResult[] = [];
  const server = await startSimulatorServer(async (request) => {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name] = String(value);
    const result = await provider.receiveWebhook({ ...request, headers });
    results.push(result);
    let answer = result.kind === "payment" ? result.answer("RECORDED") : result.answer;
    if (result.kind === "payment" && results.length <= failFirst) answer = { ...answer, status: 500 };
    return { status: answer.status, body: answer.body };
  });
  closers.push(() => server.close());
  simulator.setCallbackUrl(`${server.url}/webhooks/ayoconnect`);
  return results;
}

const callback = (body: unknown) =>
  provider.receiveWebhook({
    method: "POST",
    path: "/webhooks/ayoconnect",
    headers: { "content-type": "application/json", accept: "application/json" },
    rawBody: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
  });

/** A callback as Ayoconnect would send it for `va`, claiming payment `trxRefID` of `amount`. */
function claimedPayment(va: ProviderVaRef, trxRefID: string, amount: string) {
  const [virtualAccountId, customerId, correlationId] = va.providerReference.split(":");
  return {
    code: 200,
    message: "ok",
    virtualAccountData: {
      virtualAccountId,
      virtualAccountNumber: va.vaNumber,
      virtualAccountStatus: "PAID",
      correlationId,
      customerId,
      totalAmount: { value: amount, currency: "IDR" },
      paymentDetails: { trxRefID, amount },
    },
  };
}

describe("creating VAs", () => {
  const combinations: Array<[VaUsage, AmountRule, string, string]> = [
    ["SINGLE", { type: "FIXED", amount: 2_650_000n }, "dynamic", "closed"],
    ["SINGLE", { type: "OPEN" }, "dynamic", "open"],
    ["MULTI", { type: "FIXED", amount: 999_999_999_999n }, "static", "closed"],
    ["MULTI", { type: "OPEN" }, "static", "open"],
  ];

  it.each(combinations)("issues a %s VA with amount %o as %s/%s", async (usage, amount, type, amountType) => {
    const va = await create({ usage, amount });
    const sent = JSON.parse(
      simulator.requests.find((r) => r.method === "POST" && r.path === "/api/v1/virtualAccount")?.body ?? "{}",
    );
    expect(sent).toMatchObject({
      virtualAccountName: "Pembayaran Tagihan X",
      virtualAccountPhone: "62172439389",
      bankCode: "002",
      expiresIn: 360,
      totalAmount: { value: amount.type === "FIXED" ? `${amount.amount}.00` : "0.00", currency: "IDR" },
      virtualAccountConfig: { virtualAccountType: type, amountType },
    });
    expect(sent.transactionId).toMatch(/^[0-9a-f]{32}$/);
    const state = await provider.fetchVirtualAccount(va, signal());
    expect(state).toMatchObject({
      vaNumber: va.vaNumber,
      providerStatus: "UNUSED",
      status: "ACTIVE",
      adminFee: 4_000n,
    });
    expect(state.totalAmount).toBe(amount.type === "FIXED" ? amount.amount : 0n);
    expect(va.providerAccount).toBe(MERCHANT_CODE);
  });

  it("pads a short suffix to the bank's length so the number still ends with it (BNI starts INQUIRED)", async () => {
    const va = await create({ bankCode: "BNI", numberSuffix: "12345" });
    expect(va.vaNumber).toHaveLength(16);
    expect(va.vaNumber.endsWith("000000012345")).toBe(true);
    expect(await provider.fetchVirtualAccount(va, signal())).toMatchObject({
      providerStatus: "INQUIRED",
      status: "INQUIRED",
    });
  });

  it.each(ayoconnectCapabilities.banks.map((bank) => [bank.bankCode, bank] as const))(
    "%s issues numbers within the capability table and refuses a suffix past its maximum",
    async (bankCode, bank) => {
      const random = await create({ bankCode, usage: "MULTI", amount: { type: "OPEN" } });
      const longest = await create({ bankCode, numberSuffix: "3".repeat(bank.maxSuffixDigits) });
      for (const va of [random, longest]) {
        expect(va.vaNumber.length).toBeGreaterThanOrEqual(bank.vaNumberDigits.min);
        expect(va.vaNumber.length).toBeLessThanOrEqual(bank.vaNumberDigits.max);
      }
      const error = await refusal(create({ bankCode, numberSuffix: "3".repeat(bank.maxSuffixDigits + 1) }));
      expect(error).toMatchObject({
        kind: "INVALID_ARGUMENT",
        facts: { field: "number_suffix", providerCode: "4002401" },
      });
    },
  );
});

describe("refusals mapped to our fields", () => {
  it.each([
    [
      "a customer without a phone",
      { customer: { name: "A", email: "a@example.com", phone: "" } },
      "customer.phone",
      "4002402",
    ],
    [
      "a phone outside Indonesia",
      { customer: { name: "A", email: "", phone: "+15551234567" } },
      "customer.phone",
      "4002401",
    ],
    ["an expiry already past", { expiresAt: new Date(Date.now() - 60_000) }, "expires_at", "4002401"],
    ["a multi-payment fixed-amount VA at BNI", { bankCode: "BNI", usage: "MULTI" }, "usage", "4002401"],
  ] satisfies Array<[string, Partial<ProviderCreateRequest>, string, string]>)(
    "refuses %s",
    async (_, overrides, field, providerCode) => {
      const error = await refusal(provider.createVirtualAccount(draft(overrides), signal()));
      expect(error).toMatchObject({ kind: "INVALID_ARGUMENT", facts: { field, provider: "ayoconnect", providerCode } });
      expect(error.message.startsWith(`${field}: `)).toBe(true);
    },
  );

  it("names the rule when BNI refuses a multi-payment closed-amount VA", async () => {
    const error = await refusal(create({ bankCode: "BNI", usage: "MULTI" }));
    expect(error.message).toContain("static (multi-payment) closed-amount");
  });

  it.each([
    ["an amount range", { amount: { type: "RANGE", min: 1n, max: 2n } }, "amount.range"],
    ["a bank Ayoconnect does not serve", { bankCode: "PERMATA" }, "bank_code"],
  ] satisfies Array<[string, Partial<ProviderCreateRequest>, string]>)(
    "refuses %s before calling Ayoconnect",
    async (_, overrides, field) => {
      const error = await refusal(provider.createVirtualAccount(draft(overrides), signal()));
      expect(error).toMatchObject({ kind: "INVALID_ARGUMENT", facts: { field } });
      expect(simulator.requests).toHaveLength(0);
    },
  );

  it("refuses a retried create (same externalId) as ALREADY_EXISTS instead of issuing a second VA", async () => {
    const request = draft();
    await provider.createVirtualAccount(request, signal());
    const error = await refusal(provider.createVirtualAccount(request, signal()));
    expect(error).toMatchObject({
      kind: "ALREADY_EXISTS",
      facts: { field: "idempotency_key", providerCode: "4092400" },
    });
  });

  it("refuses a number another active VA holds as ALREADY_EXISTS", async () => {
    await create({ numberSuffix: "12345678901" });
    const error = await refusal(create({ numberSuffix: "12345678901" }));
    expect(error).toMatchObject({ kind: "ALREADY_EXISTS", facts: { field: "number_suffix" } });
  });
});

describe("OAuth client credentials", () => {
  it("refuses wrong credentials without revealing the secret", async () => {
    const wrongSecret = "ayo-wr0ng-s3cr3t-K9";
    const error = await refusal(adapterFor(wrongSecret).createVirtualAccount(draft(), signal()));
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "4017300" } });
    const everything = `${error.message} ${JSON.stringify(error.facts)} ${error.stack}`;
    expect(everything).not.toContain(wrongSecret);
    expect(everything).not.toContain(CLIENT_SECRET);
  });

  it("uses one token until it is about to expire", async () => {
    const va = await create();
    await provider.fetchVirtualAccount(va, signal());
    await create();
    expect(tokenRequests()).toBe(1);
    adapterTime = simulatorTime += 3_599_000 - 30_000;
    await provider.fetchVirtualAccount(va, signal());
    expect(tokenRequests()).toBe(2);
  });

  it("asks for a new token once when the API refuses the cached one", async () => {
    const va = await create();
    simulatorTime += 3_600_000;
    const state = await provider.fetchVirtualAccount(va, signal());
    expect(state.vaNumber).toBe(va.vaNumber);
    expect(tokenRequests()).toBe(2);
  });

  it("shares one token request between concurrent calls", async () => {
    await Promise.all([create(), create(), create()]);
    expect(tokenRequests()).toBe(1);
  });
});

describe("cancel and update", () => {
  it("cancels with PATCH /api/v1/virtualAccount expiring the VA now", async () => {
    const va = await create();
    await provider.cancelVirtualAccount(va, signal());
    const patch = simulator.requests.at(-1);
    expect(patch).toMatchObject({ method: "PATCH", path: "/api/v1/virtualAccount" });
    expect(JSON.parse(patch?.body ?? "{}")).toMatchObject({ bankCode: "002", expiresIn: 0 });
    expect(await provider.fetchVirtualAccount(va, signal())).toMatchObject({
      providerStatus: "EXPIRED",
      status: "EXPIRED",
    });
    const error = await refusal(provider.simulatePayment(va, 2_650_000n, signal()));
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "4042519" } });
  });

  it("cannot cancel a paid single-payment VA", async () => {
    const va = await create();
    await provider.simulatePayment(va, 2_650_000n, signal());
    expect((await provider.fetchVirtualAccount(va, signal())).status).toBe("COMPLETED");
    const error = await refusal(provider.cancelVirtualAccount(va, signal()));
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "4042414" } });
  });

  it("updates the amount and the expiry", async () => {
    const va = await create({ usage: "MULTI" });
    const expiresAt = new Date(adapterTime + 48 * 3_600_000);
    await provider.updateVirtualAccount(va, { amount: { type: "FIXED", amount: 3_250_000n }, expiresAt }, signal());
    const state = await provider.fetchVirtualAccount(va, signal());
    expect(state.totalAmount).toBe(3_250_000n);
    // expiredAt is written to the second.
    expect(Math.abs(state.expiresAt.getTime() - expiresAt.getTime())).toBeLessThan(1_000);
  });
});

describe("callbacks", () => {
  it("reports a genuine payment with the exact amount and a stable virtualAccountId:trxRefID", async () => {
    const results = await startReceiver();
    const va = await create({ usage: "MULTI", amount: { type: "OPEN" } });
    const { providerPaymentRef } = await provider.simulatePayment(va, 987_654_321_012n, signal());
    await simulator.idle();
    const [entry] = simulator.ledger;
    expect(providerPaymentRef).toBe(`${entry?.virtualAccountId}:${entry?.trxRefID}`);
    const [result] = results;
    if (result?.kind !== "payment") throw new Error(`expected a payment, got ${JSON.stringify(result)}`);
    expect(result.notification).toMatchObject({
      providerAccount: MERCHANT_CODE,
      providerPaymentRef,
      vaNumber: va.vaNumber,
      amount: 987_654_321_012n,
      fee: 4_000n,
    });
    expect(typeof result.notification.amount).toBe("bigint");
    expect(simulator.deliveries[0]).toMatchObject({ attempts: 1, acknowledged: true, lastStatus: 201 });
    expect(result.answer("DUPLICATE").status).toBe(201);
    expect(result.answer("UNKNOWN_VIRTUAL_ACCOUNT").status).toBe(503);
    expect((await provider.fetchVirtualAccount(va, signal())).status).toBe("PAID");
  });

  it("keeps the same providerPaymentRef when the callback is retried", async () => {
    const results = await startReceiver(1);
    const va = await create();
    await provider.simulatePayment(va, 2_650_000n, signal());
    await simulator.idle();
    expect(simulator.deliveries[0]).toMatchObject({ attempts: 2, acknowledged: true });
    const refs = results.map((r) => (r.kind === "payment" ? r.notification.providerPaymentRef : r.reason));
    const [entry] = simulator.ledger;
    // A single-payment VA's one payment is keyed by the VA itself.
    expect(refs).toEqual([`${entry?.virtualAccountId}:single`, `${entry?.virtualAccountId}:single`]);
  });

  it("a single-payment VA never gets a second payment from a callback naming another trxRefID", async () => {
    const results = await startReceiver(0);
    const va = await create();
    await provider.simulatePayment(va, 2_650_000n, signal());
    await simulator.idle();
    const genuine = results[0];
    if (genuine?.kind !== "payment") throw new Error("expected the genuine payment");
    const replayed = await callback(claimedPayment(va, "another-trx", "2650000.00"));
    expect(replayed.kind === "payment" && replayed.notification.providerPaymentRef).toBe(genuine.notification.providerPaymentRef);
    const otherAmount = await callback(claimedPayment(va, "third-trx", "1.00"));
    expect(otherAmount.kind).toBe("rejected");
  });

  it("rejects a forged callback for a VA that was never paid, and reports nothing", async () => {
    const va = await create();
    const result = await callback(claimedPayment(va, "9999", "2650000.00"));
    expect(result).toMatchObject({ kind: "rejected", answer: { status: 400 } });
    expect(simulator.ledger).toHaveLength(0);
  });

  it("rejects a callback whose VA number does not match the VA it names", async () => {
    const va = await create();
    simulator.simulatePayment(va.vaNumber, 2_650_000n);
    const forged = claimedPayment({ ...va, vaNumber: "1287100000000001" }, "2362", "2650000.00");
    expect(await callback(forged)).toMatchObject({ kind: "rejected", answer: { status: 400 } });
  });

  it("rejects a callback for a VA Ayoconnect does not know", async () => {
    const va = await create();
    const [, customerId, correlationId] = va.providerReference.split(":");
    const unknown = { ...va, providerReference: `240101000000123456789ABCDEF:${customerId}:${correlationId}` };
    expect(await callback(claimedPayment(unknown, "1", "1.00"))).toMatchObject({
      kind: "rejected",
      answer: { status: 400 },
    });
  });

  it.each([
    ["not JSON", "{nope"],
    ["no paymentDetails", { code: 200, virtualAccountData: { virtualAccountId: "x" } }],
    [
      "a fractional amount",
      {
        virtualAccountData: {
          virtualAccountId: "a",
          customerId: "b",
          correlationId: "c",
          virtualAccountNumber: "1",
          paymentDetails: { trxRefID: "1", amount: "1.50" },
        },
      },
    ],
    [
      "a flow this gateway did not start",
      {
        virtualAccountData: {
          virtualAccountId: "a",
          customerId: "b",
          correlationId: "qole43pi7iuylp083ddr5c6xgsuwog64",
          virtualAccountNumber: "1",
          paymentDetails: { trxRefID: "1", amount: "1.00" },
        },
      },
    ],
  ])("rejects a callback with %s as a 400 without throwing", async (_, body) => {
    expect(await callback(body)).toMatchObject({ kind: "rejected", answer: { status: 400 } });
  });

  it("asks for a retry (503), not a final 400, when our own credentials fail the status query", async () => {
    const va = await create();
    simulator.simulatePayment(va.vaNumber, 2_650_000n);
    provider = adapterFor("ayo-rotated-secret-without-update");
    expect(await callback(claimedPayment(va, "2362", "2650000.00"))).toMatchObject({
      kind: "rejected",
      answer: { status: 503 },
    });
  });

  it("asks for a retry (503) when the status query cannot be made", async () => {
    const va = await create();
    simulator.simulatePayment(va.vaNumber, 2_650_000n);
    await simulator.close();
    expect(await callback(claimedPayment(va, "2362", "2650000.00"))).toMatchObject({
      kind: "rejected",
      answer: { status: 503 },
    });
  });
});

describe("callback retry schedule", () => {
  async function deliveryAnswered(status: number) {
    const target = await startSimulatorServer(() => ({ status, body: {} }));
    closers.push(() => target.close());
    simulator.setCallbackUrl(target.url);
    const va = await create();
    simulator.simulatePayment(va.vaNumber, 2_650_000n);
    await simulator.idle();
    return simulator.deliveries[0];
  }

  it.each([500, 503])("retries three times after a %i", async (status) => {
    expect(await deliveryAnswered(status)).toMatchObject({ attempts: 4, acknowledged: false, lastStatus: status });
  });

  it.each([400, 404, 409])("does not retry after a %i", async (status) => {
    expect(await deliveryAnswered(status)).toMatchObject({ attempts: 1, acknowledged: false, lastStatus: status });
  });

  it("stops at the first 2xx", async () => {
    expect(await deliveryAnswered(200)).toMatchObject({ attempts: 1, acknowledged: true });
  });

  it("retries when nobody answers", async () => {
    const target = await startSimulatorServer(() => ({ status: 200 }));
    await target.close();
    simulator.setCallbackUrl(target.url);
    const va = await create();
    simulator.simulatePayment(va.vaNumber, 2_650_000n);
    await simulator.idle();
    expect(simulator.deliveries[0]).toMatchObject({ attempts: 4, acknowledged: false, lastStatus: undefined });
  });
});

describe("states", () => {
  it("maps Ayoconnect's states to ours", () => {
    expect(AYOCONNECT_STATUS_TO_OURS).toEqual({
      UNUSED: "ACTIVE",
      INQUIRED: "INQUIRED",
      PAID: "PAID",
      INACTIVE: "COMPLETED",
      EXPIRED: "EXPIRED",
    });
  });
});
