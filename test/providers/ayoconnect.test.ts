import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import type { AmountRule, VaUsage } from "../../src/domain/virtual-account.js";
import { type AyoconnectProvider, createAyoconnectProvider } from "../../src/providers/ayoconnect/adapter.js";
import { ayoconnectCapabilities } from "../../src/providers/ayoconnect/capabilities.js";
import { AYOCONNECT_STATUS_TO_OURS } from "../../src/providers/ayoconnect/transformers.js";
import type { ProviderCreateRequest, ProviderVaRef, WebhookResult } from "../../src/providers/provider.js";
import { type AyoconnectSimulator, startAyoconnectSimulator } from "../../src/sandbox/ayoconnect/simulator.js";
import { startSimulatorServer } from "../../src/sandbox/simulator-kit.js";
import { createRequestBuilder, signal, startWebhookReceiver } from "../support/provider-harness.js";

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

const draft = createRequestBuilder(() => ({
  bankCode: "BRI",
  amount: { type: "FIXED", amount: 2_650_000n },
  expiresAt: new Date(adapterTime + 6 * 3_600_000),
  customer: { name: "Pembayaran Tagihan X", email: "", phone: "+62172439389" },
  description: "Motorcycle payment",
}));

async function create(overrides: Partial<ProviderCreateRequest> = {}): Promise<ProviderVaRef> {
  const request = draft(overrides);
  return { ...(await provider.createVirtualAccount(request, signal)), bankCode: request.bankCode };
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

/** Our callback route, answering as the application would; recording the first `failFirst` payments fails. */
async function startReceiver(failFirst = 0) {
  const receiver = await startWebhookReceiver(() => provider, { path: "/webhooks/ayoconnect", record: () => "RECORDED" });
  receiver.failRecording = failFirst;
  closers.push(() => receiver.close());
  simulator.setCallbackUrl(receiver.url);
  return receiver.results;
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
    const state = await provider.fetchVirtualAccount(va, signal);
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
    expect(await provider.fetchVirtualAccount(va, signal)).toMatchObject({
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
    ["a customer without a phone", { customer: { name: "A", email: "a@example.com", phone: "" } }, "customer.phone", "4002402"],
    ["a phone outside Indonesia", { customer: { name: "A", email: "", phone: "+15551234567" } }, "customer.phone", "4002401"],
    ["an expiry already past", { expiresAt: new Date(Date.now() - 60_000) }, "expires_at", "4002401"],
    ["a multi-payment fixed-amount VA at BNI", { bankCode: "BNI", usage: "MULTI" }, "usage", "4002401"],
  ] satisfies Array<[string, Partial<ProviderCreateRequest>, string, string]>)(
    "refuses %s",
    async (_, overrides, field, providerCode) => {
      const error = await refusal(provider.createVirtualAccount(draft(overrides), signal));
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
      const error = await refusal(provider.createVirtualAccount(draft(overrides), signal));
      expect(error).toMatchObject({ kind: "INVALID_ARGUMENT", facts: { field } });
      expect(simulator.requests).toHaveLength(0);
    },
  );

  it("never issues a second VA for a retried create (same externalId), and says why it cannot adopt the first", async () => {
    const request = draft();
    await provider.createVirtualAccount(request, signal);
    const error = await refusal(provider.createVirtualAccount(request, signal));
    expect(error).toMatchObject({
      kind: "FAILED_PRECONDITION",
      facts: { field: "idempotency_key", providerCode: "4092400" },
    });
    expect(error.message).toContain("cannot look that account up");
    expect(simulator.requests.filter((r) => r.method === "POST" && r.path === "/api/v1/virtualAccount")).toHaveLength(2);
  });

  it("a create whose answer was lost leaves one VA at Ayoconnect; the retry gets no second one", async () => {
    const request = draft();
    simulator.loseNextCreateAnswer();
    expect(await refusal(provider.createVirtualAccount(request, signal))).toMatchObject({ kind: "UNAVAILABLE" });
    expect(await refusal(provider.createVirtualAccount(request, signal))).toMatchObject({
      kind: "FAILED_PRECONDITION",
      facts: { field: "idempotency_key" },
    });
    const made = simulator.requests.filter((r) => r.method === "POST" && r.path === "/api/v1/virtualAccount");
    expect(made).toHaveLength(2);
    const transactionIds = new Set(made.map((r) => JSON.parse(r.body).transactionId));
    expect(transactionIds.size).toBe(1);
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
    const error = await refusal(adapterFor(wrongSecret).createVirtualAccount(draft(), signal));
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "4017300" } });
    const everything = `${error.message} ${JSON.stringify(error.facts)} ${error.stack}`;
    expect(everything).not.toContain(wrongSecret);
    expect(everything).not.toContain(CLIENT_SECRET);
  });

  it("uses one token until it is about to expire", async () => {
    const va = await create();
    await provider.fetchVirtualAccount(va, signal);
    await create();
    expect(tokenRequests()).toBe(1);
    adapterTime = simulatorTime += 3_599_000 - 30_000;
    await provider.fetchVirtualAccount(va, signal);
    expect(tokenRequests()).toBe(2);
  });

  it("asks for a new token once when the API refuses the cached one", async () => {
    const va = await create();
    simulatorTime += 3_600_000;
    const state = await provider.fetchVirtualAccount(va, signal);
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
    await provider.cancelVirtualAccount(va, signal);
    const patch = simulator.requests.at(-1);
    expect(patch).toMatchObject({ method: "PATCH", path: "/api/v1/virtualAccount" });
    expect(JSON.parse(patch?.body ?? "{}")).toMatchObject({ bankCode: "002", expiresIn: 0 });
    expect(await provider.fetchVirtualAccount(va, signal)).toMatchObject({
      providerStatus: "EXPIRED",
      status: "EXPIRED",
    });
    const error = await refusal(provider.simulatePayment(va, 2_650_000n, signal));
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "4042519" } });
  });

  it("cannot cancel a paid single-payment VA", async () => {
    const va = await create();
    await provider.simulatePayment(va, 2_650_000n, signal);
    expect((await provider.fetchVirtualAccount(va, signal)).status).toBe("COMPLETED");
    const error = await refusal(provider.cancelVirtualAccount(va, signal));
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "4042414" } });
  });

  it("updates the amount and the expiry", async () => {
    const va = await create({ usage: "MULTI" });
    const expiresAt = new Date(adapterTime + 48 * 3_600_000);
    await provider.updateVirtualAccount(va, { amount: { type: "FIXED", amount: 3_250_000n }, expiresAt }, signal);
    const state = await provider.fetchVirtualAccount(va, signal);
    expect(state.totalAmount).toBe(3_250_000n);
    // expiredAt is written to the second.
    expect(Math.abs(state.expiresAt.getTime() - expiresAt.getTime())).toBeLessThan(1_000);
  });
});

/** The claim a callback makes, as the core would hand it to `confirmPayment`. */
function claimOf(result: WebhookResult | undefined) {
  if (result?.kind !== "payment") throw new Error(`expected a payment claim, got ${JSON.stringify(result)}`);
  return result;
}

const confirm = (result: WebhookResult | undefined, context?: { firstSeenAt: Date }) =>
  provider.confirmPayment(claimOf(result).notification, signal, context);

describe("callbacks", () => {
  it("reads a genuine payment as an unsigned claim with the exact amount and a stable virtualAccountId:trxRefID", async () => {
    const results = await startReceiver();
    const va = await create({ usage: "MULTI", amount: { type: "OPEN" } });
    const { providerPaymentRef } = await provider.simulatePayment(va, 987_654_321_012n, signal);
    await simulator.idle();
    const [entry] = simulator.ledger;
    expect(providerPaymentRef).toBe(`${entry?.virtualAccountId}:${entry?.trxRefID}`);
    const result = claimOf(results[0]);
    expect(result.belief).toEqual({ verified: false, doubt: "unsigned" });
    expect(result.notification).toMatchObject({
      providerAccount: MERCHANT_CODE,
      providerPaymentRef,
      vaNumber: va.vaNumber,
      amount: 987_654_321_012n,
      fee: 4_000n,
      providerVaId: entry?.virtualAccountId,
    });
    expect(typeof result.notification.amount).toBe("bigint");
    expect(simulator.deliveries[0]).toMatchObject({ attempts: 1, acknowledged: true, lastStatus: 201 });
    for (const answered of ["RECORDED", "DUPLICATE", "HELD"] as const) expect(result.answer(answered).status).toBe(201);
    expect(result.answer("REFUTED").status).toBe(400);
    expect(await confirm(result)).toEqual({ paid: true, notification: result.notification });
    expect((await provider.fetchVirtualAccount(va, signal)).status).toBe("PAID");
  });

  it("names the VA by the virtualAccountId the create returned, on the callback and on create", async () => {
    const results = await startReceiver();
    const request = draft();
    const issued = await provider.createVirtualAccount(request, signal);
    await provider.simulatePayment({ ...issued, bankCode: request.bankCode }, 2_650_000n, signal);
    await simulator.idle();
    expect(issued.providerVaId).toMatch(/^[0-9A-Z]{27}$/);
    expect(claimOf(results[0]).notification.providerVaId).toBe(issued.providerVaId);
  });

  it("confirms a payment other than the bill, with the amount paid (Ayoconnect's published 12500.00 of 25000.00)", async () => {
    const results = await startReceiver();
    const va = await create({ amount: { type: "FIXED", amount: 25_000n } });
    simulator.payOtherThanBill(va.vaNumber, 12_500n);
    await simulator.idle();
    const body = JSON.parse(claimOf(results[0]).notification.rawPayload);
    expect(body.virtualAccountData).toMatchObject({
      totalAmount: { value: "25000.00", currency: "IDR" },
      billAmount: { value: "12500.00", currency: "IDR" },
      paymentDetails: { amount: "12500.00" },
    });
    const confirmation = await confirm(results[0]);
    expect(confirmation).toMatchObject({ paid: true, notification: { amount: 12_500n } });
    expect(simulator.deliveries[0]).toMatchObject({ attempts: 1, acknowledged: true, lastStatus: 201 });
  });

  it("keeps the same providerPaymentRef when the callback is retried", async () => {
    const results = await startReceiver(1);
    const va = await create();
    await provider.simulatePayment(va, 2_650_000n, signal);
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
    await provider.simulatePayment(va, 2_650_000n, signal);
    await simulator.idle();
    const genuine = claimOf(results[0]);
    for (const [trxRefID, amount] of [
      ["another-trx", "2650000.00"],
      ["third-trx", "1.00"],
    ]) {
      const replayed = claimOf(await callback(claimedPayment(va, trxRefID as string, amount as string)));
      expect(replayed.notification.providerPaymentRef).toBe(genuine.notification.providerPaymentRef);
    }
  });

  // Ayoconnect never retries a 4xx, so an unpaid status is only believed once it cannot be lag.
  const LONG_AGO = { firstSeenAt: new Date(Date.now() - 16 * 60_000) };

  it("is not refuted while the status may lag: a VA of ours shown unpaid right after the callback → cannot tell yet", async () => {
    const va = await create();
    const claim = claimOf(await callback(claimedPayment(va, "9999", "2650000.00"))).notification;
    await expect(provider.confirmPayment(claim, signal, { firstSeenAt: new Date() })).rejects.toMatchObject({
      kind: "UNAVAILABLE",
      message: expect.stringContaining("UNUSED"),
    });
  });

  it("is denied by Ayoconnect: a forged callback for a VA that was never paid (once the status cannot be lag)", async () => {
    const va = await create();
    const confirmation = await confirm(await callback(claimedPayment(va, "9999", "2650000.00")), LONG_AGO);
    expect(confirmation).toMatchObject({ paid: false, reason: expect.stringContaining("UNUSED") });
    expect(simulator.ledger).toHaveLength(0);
  });

  it("is denied by Ayoconnect: a callback for a VA that expired unpaid (once the status cannot be lag)", async () => {
    const va = await create();
    await provider.cancelVirtualAccount(va, signal);
    expect(await confirm(await callback(claimedPayment(va, "1", "2650000.00")), LONG_AGO)).toMatchObject({
      paid: false,
      reason: expect.stringContaining("EXPIRED"),
    });
  });

  it("is denied by Ayoconnect: a callback whose VA number does not match the VA it names", async () => {
    const va = await create();
    simulator.simulatePayment(va.vaNumber, 2_650_000n);
    const forged = claimedPayment({ ...va, vaNumber: "1287100000000001" }, "2362", "2650000.00");
    expect(await confirm(await callback(forged))).toMatchObject({ paid: false });
  });

  it("is denied by Ayoconnect: a callback for a VA it does not know", async () => {
    const va = await create();
    const [, customerId, correlationId] = va.providerReference.split(":");
    const unknown = { ...va, providerReference: `240101000000123456789ABCDEF:${customerId}:${correlationId}` };
    expect(await confirm(await callback(claimedPayment(unknown, "1", "1.00")))).toMatchObject({ paid: false });
  });

  it("asks every bank about a flow this gateway did not start, and confirms what Ayoconnect shows paid", async () => {
    const foreign = {
      virtualAccountId: "2405121557574135743HROOUVXY",
      customerId: "AYOPOP-GCINRJ2946",
      correlationId: "1237000000001000123456789024475k",
      virtualAccountNumber: "1896520138004558",
    };
    const claim = {
      code: 200,
      message: "ok",
      virtualAccountData: { ...foreign, paymentDetails: { trxRefID: "2362", amount: "12500.00" } },
    };
    expect(await confirm(await callback(claim))).toMatchObject({ paid: false });
    const statusQueries = simulator.requests.filter((r) => r.method === "GET");
    expect(statusQueries.length).toBeGreaterThanOrEqual(4);

    simulator.addVirtualAccount({ ...foreign, bankCode: "008", totalAmount: 25_000n, paid: 12_500n });
    const result = await callback(claim);
    expect(claimOf(result).notification.providerPaymentRef).toBe("2405121557574135743HROOUVXY:2362");
    expect(await confirm(result)).toMatchObject({ paid: true, notification: { amount: 12_500n } });
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
  ])("rejects a callback with %s as a 400 without throwing", async (_, body) => {
    expect(await callback(body)).toMatchObject({ kind: "rejected", answer: { status: 400 } });
  });

  it("cannot tell (UNAVAILABLE, so the core holds it and answers 201) when our own credentials fail the status query", async () => {
    const va = await create();
    simulator.simulatePayment(va.vaNumber, 2_650_000n);
    provider = adapterFor("ayo-rotated-secret-without-update");
    const result = await callback(claimedPayment(va, "2362", "2650000.00"));
    expect(await refusal(confirm(result))).toMatchObject({ kind: "UNAVAILABLE" });
    expect(claimOf(result).answer("HELD").status).toBe(201);
  });

  it("cannot tell (UNAVAILABLE) when the status query cannot be made", async () => {
    const va = await create();
    simulator.simulatePayment(va.vaNumber, 2_650_000n);
    await simulator.close();
    expect(await refusal(confirm(await callback(claimedPayment(va, "2362", "2650000.00"))))).toMatchObject({
      kind: "UNAVAILABLE",
    });
  });
});

const fetchPayments = (va: ProviderVaRef) => provider.fetchPayments(va, signal);

describe("status polling (fetchPayments)", () => {
  it("reports a paid single-payment VA's one payment under the callback's providerPaymentRef", async () => {
    const results = await startReceiver();
    const va = await create({ amount: { type: "FIXED", amount: 25_000n } });
    expect(await fetchPayments(va)).toEqual([]);
    simulator.payOtherThanBill(va.vaNumber, 12_500n);
    await simulator.idle();
    const [polled] = await fetchPayments(va);
    expect(polled).toMatchObject({
      providerAccount: MERCHANT_CODE,
      providerPaymentRef: claimOf(results[0]).notification.providerPaymentRef,
      vaNumber: va.vaNumber,
      amount: 12_500n,
      fee: 4_000n,
      providerVaId: claimOf(results[0]).notification.providerVaId,
    });
  });

  it("dates a payment it finds after expiry at the expiry (a single-payment VA closes then)", async () => {
    const va = await create();
    simulator.simulatePayment(va.vaNumber, 2_650_000n);
    const { expiresAt } = await provider.fetchVirtualAccount(va, signal);
    adapterTime = simulatorTime += 7 * 3_600_000;
    const [polled] = await fetchPayments(va);
    expect(polled?.paidAt).toEqual(expiresAt);
  });

  it("reports nothing for a multi-payment VA: its status shows none of its payments", async () => {
    const va = await create({ usage: "MULTI", amount: { type: "OPEN" } });
    simulator.simulatePayment(va.vaNumber, 10_000n);
    expect(await fetchPayments(va)).toEqual([]);
  });
});

describe("simulator misbehaviours", () => {
  it("holds callbacks and delivers each once later, byte for byte", async () => {
    const results = await startReceiver();
    const va = await create();
    simulator.holdCallbacks(true);
    simulator.simulatePayment(va.vaNumber, 2_650_000n);
    simulator.holdCallbacks(false);
    await simulator.idle();
    expect(results).toHaveLength(0);
    const answers = await simulator.deliverHeldCallbacks();
    expect(answers.map((a) => a.status)).toEqual([201]);
    expect(results).toHaveLength(1);
    expect(await simulator.deliverHeldCallbacks()).toEqual([]);
  });

  it("pays before it answers the create, after its callback was answered", async () => {
    const results = await startReceiver();
    simulator.payBeforeNextCreateAnswer(2_650_000n);
    const va = await create();
    expect(results).toHaveLength(1);
    expect(claimOf(results[0]).notification.vaNumber).toBe(va.vaNumber);
    expect(simulator.ledger).toHaveLength(1);
  });

  it("reissues a paid VA's number to the next VA, which gets its own virtualAccountId", async () => {
    const old = await create();
    simulator.simulatePayment(old.vaNumber, 2_650_000n);
    simulator.reissueNumberOnNextCreate(old.vaNumber);
    const reissued = await create();
    expect(reissued.vaNumber).toBe(old.vaNumber);
    expect(reissued.providerReference.split(":")[0]).not.toBe(old.providerReference.split(":")[0]);
  });

  it("refuses to reissue a number an active VA still holds (4092400)", async () => {
    const old = await create();
    simulator.reissueNumberOnNextCreate(old.vaNumber);
    expect(await refusal(create())).toMatchObject({ kind: "ALREADY_EXISTS", facts: { field: "number_suffix" } });
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
