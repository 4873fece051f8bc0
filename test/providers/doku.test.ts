import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import type { Rupiah } from "../../src/domain/money.js";
import type { AmountRule, VaUsage } from "../../src/domain/virtual-account.js";
import { createDokuProvider, type DokuConfig, type DokuProvider } from "../../src/providers/doku/adapter.js";
import { dokuCapabilities, dokuCapabilitiesFor } from "../../src/providers/doku/capabilities.js";
import {
  bodyDigest,
  dokuTimestamp,
  hasValidSignature,
  signatureComponent,
  signRequest,
} from "../../src/providers/doku/signature.js";
import type { InboundHttpRequest, ProviderCreateRequest, ProviderVaRef, VaProvider } from "../../src/providers/provider.js";
import { DokuRefusal } from "../../src/sandbox/doku/rules.js";
import { DOKU_RETRY_DELAYS_MS, type DokuSimulator, startDokuSimulator } from "../../src/sandbox/doku/simulator.js";
import { startSimulatorServer } from "../../src/sandbox/simulator-kit.js";
import { createRequestBuilder, signal, startWebhookReceiver, type WebhookReceiver } from "../support/provider-harness.js";

const CLIENT_ID = "MCH-0001-10791114622547";
const SECRET_KEY = "SK-test-0f9e8d7c6b5a4";
const MERCHANT_BIN = "123456789";
const NOTIFICATION_PATH = "/webhooks/doku";

let simulator: DokuSimulator;
let receiver: WebhookReceiver;
let dgpc: DokuProvider;
let mgpc: DokuProvider;

/** The payments our webhook route accepted, in arrival order. */
const notifications = () => receiver.results.flatMap((result) => (result.kind === "payment" ? [result.notification] : []));

const provider = (overrides: Partial<DokuConfig> = {}) =>
  createDokuProvider({
    baseUrl: simulator.url,
    clientId: CLIENT_ID,
    secretKey: SECRET_KEY,
    mode: "DGPC",
    notificationPath: NOTIFICATION_PATH,
    ...overrides,
  });

beforeAll(async () => {
  simulator = await startDokuSimulator({
    clientId: CLIENT_ID,
    secretKey: SECRET_KEY,
    merchantBin: MERCHANT_BIN,
    retryDelaysMs: [20, 20, 20],
  });
  dgpc = provider();
  mgpc = provider({ mode: "MGPC", bin: MERCHANT_BIN });
  receiver = await startWebhookReceiver(() => dgpc, {
    path: NOTIFICATION_PATH,
    outage: { status: 503, body: { error: "maintenance" } },
  });
  simulator.setNotificationUrl(receiver.url);
});

afterAll(async () => {
  await simulator.close();
  await receiver.close();
});

beforeEach(() => {
  receiver.reset();
});

const createRequest = createRequestBuilder(() => ({
  externalId: `inv-${randomUUID()}`,
  customer: { name: "Anton Budiman", email: "anton@example.com", phone: "" },
}));

async function domainErrorOf(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError");
}

function ledgerEntry(invoiceNumber: string) {
  const entry = simulator.ledger.get(invoiceNumber);
  if (entry === undefined) throw new Error(`no payment code for ${invoiceNumber}`);
  return entry;
}

/** A request to the simulator signed like a DOKU client would, with parts to spoil. */
async function rawDokuCall(
  path: string,
  body: string,
  spoil: { headers?: Record<string, string | undefined>; method?: string; requestId?: string } = {},
) {
  const requestId = spoil.requestId ?? randomUUID();
  const requestTimestamp = dokuTimestamp(new Date());
  const parts = { clientId: CLIENT_ID, requestId, requestTimestamp, requestTarget: path, body };
  const headers = Object.entries({
    "content-type": "application/json",
    "Client-Id": CLIENT_ID,
    "Request-Id": requestId,
    "Request-Timestamp": requestTimestamp,
    Signature: signRequest(parts, SECRET_KEY),
    ...spoil.headers,
  }).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const response = await fetch(simulator.url + path, { method: spoil.method ?? "POST", headers, body });
  return { status: response.status, json: (await response.json()) as { error?: { code: string; message: string } } };
}

const fixBillBody = (invoiceNumber: string, extraInfo: Record<string, unknown> = {}) =>
  JSON.stringify({
    order: { invoice_number: invoiceNumber, amount: 150000 },
    virtual_account_info: { expired_time: 60, reusable_status: false, ...extraInfo },
    customer: { name: "Anton Budiman" },
  });

describe("DOKU non-SNAP signature (reference §4.3)", () => {
  const vector = {
    clientId: "MCH-0001-10791114622547",
    requestId: "fdb69f47-96da-499d-acec-7cdc318ab2fe",
    requestTimestamp: "2020-08-11T08:45:42Z",
    requestTarget: "/bca-virtual-account/v2/payment-code",
    body: '{"order":{"invoice_number":"INV-20210124-0001","amount":150000},"virtual_account_info":{"expired_time":60,"reusable_status":false,"info1":"Thanks"},"customer":{"name":"Anton Budiman","email":"anton@example.com"}}',
  };
  const secret = "SK-hCJ42G28TA0MKG9LE2E_1";

  it("reproduces the recomputed vector", () => {
    expect(bodyDigest(vector.body)).toBe("sOHO+hDJhJZ+yYh7ondkG8gtgPwZ9cImjwyRi8BxFIA=");
    expect(signRequest(vector, secret)).toBe("HMACSHA256=HjMULYdu2sBvTPmXbw/Hmt6F6TDKF6b7snJyE4PF8tQ=");
    expect(signatureComponent(vector).endsWith("Digest:sOHO+hDJhJZ+yYh7ondkG8gtgPwZ9cImjwyRi8BxFIA=")).toBe(true);
  });

  it("verifies only the exact bytes, target and key", () => {
    const signature = signRequest(vector, secret);
    expect(hasValidSignature(signature, vector, secret)).toBe(true);
    expect(hasValidSignature(signature, { ...vector, body: vector.body.replace("150000", "150001") }, secret)).toBe(false);
    expect(hasValidSignature(signature, { ...vector, body: ` ${vector.body}` }, secret)).toBe(false);
    expect(hasValidSignature(signature, { ...vector, requestTarget: "/other" }, secret)).toBe(false);
    expect(hasValidSignature(signature, vector, "SK-other")).toBe(false);
    expect(hasValidSignature(undefined, vector, secret)).toBe(false);
  });

  it("writes Request-Timestamp in UTC to the second", () => {
    expect(dokuTimestamp(new Date("2020-09-22T08:51:00.123+07:00"))).toBe("2020-09-22T01:51:00Z");
  });
});

describe("creating payment codes, DOKU picks the number (DGPC)", () => {
  const cases: Array<{ bank: string; usage: VaUsage; amount: AmountRule; billingType: string }> = [
    { bank: "BCA", usage: "SINGLE", amount: { type: "FIXED", amount: 150_000n }, billingType: "FIX_BILL" },
    { bank: "BCA", usage: "MULTI", amount: { type: "OPEN" }, billingType: "NO_BILL" },
    {
      bank: "MANDIRI",
      usage: "SINGLE",
      amount: { type: "RANGE", min: 10_000n, max: 5_000_000n },
      billingType: "BILL_VARIABLE_AMOUNT",
    },
    { bank: "BNI", usage: "MULTI", amount: { type: "OPEN" }, billingType: "OPEN" },
    { bank: "BSI", usage: "SINGLE", amount: { type: "FIXED", amount: 25_000n }, billingType: "FIX_BILL" },
  ];

  for (const { bank, usage, amount, billingType } of cases) {
    it(`${bank} ${usage} ${amount.type} → ${billingType}`, async () => {
      const request = createRequest({ bankCode: bank, usage, amount });
      const va = await dgpc.createVirtualAccount(request, signal);

      expect(va.vaNumber).toMatch(/^190060[0-9]{10}$/);
      expect(va).toMatchObject({ providerAccount: CLIENT_ID, providerReference: request.externalId });
      const entry = ledgerEntry(request.externalId);
      expect(entry).toMatchObject({
        channel: { bankCode: bank },
        vaNumber: va.vaNumber,
        numbering: "DGPC",
        billingType,
        amount,
      });
      expect(entry.reusable).toBe(usage === "MULTI");
      const expiryDrift = entry.expiresAt.getTime() - request.expiresAt.getTime();
      expect(expiryDrift).toBeGreaterThanOrEqual(0);
      expect(expiryDrift).toBeLessThan(60_000);
    });
  }

  it("refuses amount rules the bank does not offer, before calling DOKU", async () => {
    const request = createRequest({ bankCode: "BSI", amount: { type: "OPEN" } });
    const error = await domainErrorOf(dgpc.createVirtualAccount(request, signal));
    expect(error).toMatchObject({ kind: "INVALID_ARGUMENT", facts: { field: "amount", provider: "doku" } });
    expect(simulator.ledger.has(request.externalId)).toBe(false);
  });

  it("refuses unknown banks and suffixes it cannot honour", async () => {
    const unknownBank = await domainErrorOf(dgpc.createVirtualAccount(createRequest({ bankCode: "BJB" }), signal));
    expect(unknownBank).toMatchObject({ kind: "INVALID_ARGUMENT", facts: { field: "bank_code" } });
    const suffix = await domainErrorOf(dgpc.createVirtualAccount(createRequest({ numberSuffix: "42" }), signal));
    expect(suffix).toMatchObject({ kind: "INVALID_ARGUMENT", facts: { field: "number_suffix" } });
  });
});

describe("creating payment codes under our BIN (MGPC)", () => {
  it("issues BIN + suffix for each billing type", async () => {
    const cases: Array<{ bank: string; amount: AmountRule; suffix: string }> = [
      { bank: "BCA", amount: { type: "FIXED", amount: 150_000n }, suffix: "0000000001" },
      { bank: "BCA", amount: { type: "OPEN" }, suffix: "0000000002" },
      { bank: "MANDIRI", amount: { type: "RANGE", min: 10_000n, max: 20_000n }, suffix: "0000000003" },
    ];
    for (const { bank, amount, suffix } of cases) {
      const request = createRequest({ bankCode: bank, amount, numberSuffix: suffix });
      const va = await mgpc.createVirtualAccount(request, signal);
      expect(va.vaNumber).toBe(MERCHANT_BIN + suffix);
      expect(ledgerEntry(request.externalId)).toMatchObject({ numbering: "MGPC", amount });
    }
  });

  it("derives 10 free digits from the external id when no suffix is asked for", async () => {
    const request = createRequest();
    const first = await mgpc.createVirtualAccount(request, signal);
    const retried = await mgpc.createVirtualAccount(request, signal);
    expect(first.vaNumber).toMatch(new RegExp(`^${MERCHANT_BIN}[0-9]{10}$`));
    expect(retried.vaNumber).toBe(first.vaNumber);
  });

  it("keeps numbers within 23 digits", async () => {
    const longest = createRequest({ numberSuffix: "1".repeat(14) });
    expect((await mgpc.createVirtualAccount(longest, signal)).vaNumber).toHaveLength(23);

    const tooLong = createRequest({ numberSuffix: "2".repeat(15) });
    const error = await domainErrorOf(mgpc.createVirtualAccount(tooLong, signal));
    expect(error).toMatchObject({ kind: "INVALID_ARGUMENT", facts: { field: "number_suffix", provider: "doku" } });
    expect(simulator.ledger.has(tooLong.externalId)).toBe(false);
  });

  it("accepts only Direct (5-digit) and DOKU Exclusive (9+ digit) BINs", () => {
    expect(() => provider({ mode: "MGPC", bin: "190060" })).toThrow(/BIN/);
    expect(() => provider({ mode: "MGPC", bin: "1".repeat(23) })).toThrow(/BIN/);
    expect(() => provider({ mode: "MGPC" })).toThrow(/BIN/);
    expect(() => provider({ mode: "DGPC", bin: MERCHANT_BIN })).toThrow(/MGPC/);
    expect(() => provider({ mode: "MGPC", bin: "12345" })).not.toThrow();
  });

  it("is refused by DOKU under a BIN that is not ours", async () => {
    const foreign = provider({ mode: "MGPC", bin: "987654321" });
    const error = await domainErrorOf(foreign.createVirtualAccount(createRequest({ numberSuffix: "7" }), signal));
    expect(error).toMatchObject({
      kind: "INVALID_ARGUMENT",
      facts: { field: "number_suffix", provider: "doku", providerCode: "invalid_parameter" },
    });
  });

  it("refuses a number already in use", async () => {
    await mgpc.createVirtualAccount(createRequest({ numberSuffix: "5550001" }), signal);
    const error = await domainErrorOf(mgpc.createVirtualAccount(createRequest({ numberSuffix: "5550001" }), signal));
    expect(error).toMatchObject({
      kind: "ALREADY_EXISTS",
      facts: { field: "number_suffix", providerCode: "duplicate_virtual_account_number" },
    });
  });

  it("simulator: BCA takes merchant numbers only at merchant-payment-code, and at most 23 digits", async () => {
    const atDgpcPath = await rawDokuCall(
      "/bca-virtual-account/v2/payment-code",
      fixBillBody(`inv-${randomUUID()}`, { virtual_account_number: `${MERCHANT_BIN}1` }),
    );
    expect(atDgpcPath.status).toBe(400);
    expect(atDgpcPath.json.error?.message).toContain("merchant-payment-code");

    const tooLong = await rawDokuCall(
      "/bca-virtual-account/v2/merchant-payment-code",
      fixBillBody(`inv-${randomUUID()}`, { virtual_account_number: MERCHANT_BIN + "3".repeat(15) }),
    );
    expect(tooLong).toMatchObject({ status: 400, json: { error: { code: "invalid_parameter" } } });
    expect(tooLong.json.error?.message).toContain("23 digits");

    const withoutFreeDigits = await rawDokuCall(
      "/mandiri-virtual-account/v2/payment-code",
      fixBillBody(`inv-${randomUUID()}`, { virtual_account_number: MERCHANT_BIN }),
    );
    expect(withoutFreeDigits.status).toBe(400);
  });
});

describe("refusals from DOKU, mapped to our fields", () => {
  const cases: Array<{ name: string; request: () => ProviderCreateRequest; field: string }> = [
    {
      name: "long customer name",
      request: () => createRequest({ customer: { name: "A".repeat(256), email: "", phone: "" } }),
      field: "customer.name",
    },
    {
      name: "bad email",
      request: () => createRequest({ customer: { name: "Anton", email: "not-an-email", phone: "" } }),
      field: "customer.email",
    },
    {
      name: "13-digit amount",
      request: () => createRequest({ amount: { type: "FIXED", amount: 1_000_000_000_000n } }),
      field: "amount.fixed.amount",
    },
    {
      name: "empty range",
      request: () => createRequest({ bankCode: "MANDIRI", amount: { type: "RANGE", min: 5_000n, max: 5_000n } }),
      field: "amount.range.min",
    },
    {
      name: "13-digit range max",
      request: () => createRequest({ bankCode: "MANDIRI", amount: { type: "RANGE", min: 5_000n, max: 1_000_000_000_000n } }),
      field: "amount.range.max",
    },
    {
      name: "expiry beyond DOKU's 8-digit minutes",
      request: () => createRequest({ expiresAt: new Date(Date.now() + 100_000_000 * 60_000) }),
      field: "expires_at",
    },
  ];

  for (const { name, request, field } of cases) {
    it(`${name} → ${field}`, async () => {
      const error = await domainErrorOf(dgpc.createVirtualAccount(request(), signal));
      expect(error).toMatchObject({
        kind: "INVALID_ARGUMENT",
        facts: { field, provider: "doku", providerCode: "invalid_parameter" },
      });
      expect(error.facts.providerMessage).toBeTruthy();
    });
  }

  it("refuses locally what DOKU could never take", async () => {
    const past = await domainErrorOf(
      dgpc.createVirtualAccount(createRequest({ expiresAt: new Date(Date.now() - 1000) }), signal),
    );
    expect(past).toMatchObject({ kind: "INVALID_ARGUMENT", facts: { field: "expires_at" } });
    const longId = await domainErrorOf(dgpc.createVirtualAccount(createRequest({ externalId: "x".repeat(65) }), signal));
    expect(longId).toMatchObject({ kind: "INVALID_ARGUMENT", facts: { field: "idempotency_key" } });
    const unsafe = createRequest({ amount: { type: "FIXED", amount: 2n ** 60n } });
    expect(await domainErrorOf(dgpc.createVirtualAccount(unsafe, signal))).toMatchObject({
      facts: { field: "amount.fixed.amount" },
    });
  });

  it("refuses a wrong client secret without revealing it", async () => {
    const wrongSecret = "SK-wrong-secret-never-shown";
    const error = await domainErrorOf(provider({ secretKey: wrongSecret }).createVirtualAccount(createRequest(), signal));
    expect(error).toMatchObject({
      kind: "FAILED_PRECONDITION",
      facts: { provider: "doku", providerCode: "invalid_signature" },
    });
    expect(JSON.stringify({ message: error.message, facts: error.facts })).not.toContain(wrongSecret);
    expect(JSON.stringify({ message: error.message, facts: error.facts })).not.toContain(SECRET_KEY);
  });

  it("refuses an unknown Client-Id and a skewed clock as our problem, not the caller's", async () => {
    const stranger = await domainErrorOf(provider({ clientId: "MCH-unknown" }).createVirtualAccount(createRequest(), signal));
    expect(stranger).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "invalid_client_id" } });
    const aheadOfTime = provider({ now: () => new Date(Date.now() + 10 * 60_000) });
    const skewed = await domainErrorOf(aheadOfTime.createVirtualAccount(createRequest(), signal));
    expect(skewed).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "invalid_timestamp" } });
  });

  it("sends to the configured path of a bank", async () => {
    const rerouted = provider({ channelPaths: { BRI: "/bri-virtual-account/v3/payment-code" } });
    const error = await domainErrorOf(rerouted.createVirtualAccount(createRequest({ bankCode: "BRI" }), signal));
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "not_found" } });
    await rerouted.createVirtualAccount(createRequest({ bankCode: "BCA" }), signal);
  });

  it("reports an unreachable DOKU as UNAVAILABLE", async () => {
    const gone = await startSimulatorServer(() => ({ status: 200 }));
    await gone.close();
    const error = await domainErrorOf(provider({ baseUrl: gone.url }).createVirtualAccount(createRequest(), signal));
    expect(error).toMatchObject({ kind: "UNAVAILABLE", facts: { provider: "doku" } });
  });

  it("simulator: refuses missing headers, a bad Digest, a malformed timestamp and unknown paths", async () => {
    const path = "/bca-virtual-account/v2/payment-code";
    const body = fixBillBody(`inv-${randomUUID()}`);
    expect(await rawDokuCall(path, body, { headers: { Signature: undefined } })).toMatchObject({
      status: 400,
      json: { error: { code: "invalid_header" } },
    });
    expect(await rawDokuCall(path, body, { headers: { Digest: bodyDigest("{}") } })).toMatchObject({
      status: 400,
      json: { error: { code: "invalid_digest" } },
    });
    expect((await rawDokuCall(path, body, { headers: { Digest: bodyDigest(body) } })).status).toBe(200);
    expect(await rawDokuCall(path, body, { headers: { "Request-Timestamp": "2020-08-11 08:45:42" } })).toMatchObject({
      status: 400,
      json: { error: { code: "invalid_timestamp" } },
    });
    expect(await rawDokuCall(path, body, { requestId: "r".repeat(129) })).toMatchObject({ status: 400 });
    expect((await rawDokuCall("/ovo/v2/payment-code", body)).status).toBe(404);
    expect((await rawDokuCall(path, body, { method: "PUT" })).status).toBe(404);
    const variableAtBca = await rawDokuCall(path, fixBillBody(`inv-${randomUUID()}`, { billing_type: "BILL_VARIABLE_AMOUNT" }));
    expect(variableAtBca.status).toBe(400);
    expect(variableAtBca.json.error?.message).toContain("virtual_account_info.billing_type");
    expect(await rawDokuCall(path, "not json")).toMatchObject({
      status: 400,
      json: { error: { code: "invalid_parameter" } },
    });
  });
});

describe("idempotency by Request-Id and invoice number", () => {
  it("a retried create gets DOKU's replayed answer: one payment code", async () => {
    const request = createRequest();
    const first = await dgpc.createVirtualAccount(request, signal);
    const retried = await dgpc.createVirtualAccount(request, signal);
    expect(retried).toEqual(first);
    expect([...simulator.ledger.values()].filter((entry) => entry.invoiceNumber === request.externalId)).toHaveLength(1);
  });

  it("the same external id with another request is ALREADY_EXISTS", async () => {
    const request = createRequest();
    await dgpc.createVirtualAccount(request, signal);
    const changed = { ...request, amount: { type: "FIXED", amount: 99_000n } as const };
    const error = await domainErrorOf(dgpc.createVirtualAccount(changed, signal));
    expect(error).toMatchObject({
      kind: "ALREADY_EXISTS",
      facts: { field: "idempotency_key", providerCode: "duplicate_request_id" },
    });
  });

  it("simulator: a second payment code for an invoice number is refused", async () => {
    const invoice = `inv-${randomUUID()}`;
    expect((await rawDokuCall("/bri-virtual-account/v2/payment-code", fixBillBody(invoice))).status).toBe(200);
    expect(await rawDokuCall("/bri-virtual-account/v2/payment-code", fixBillBody(invoice))).toMatchObject({
      status: 409,
      json: { error: { code: "duplicate_invoice_number" } },
    });
  });
});

describe("cancelling", () => {
  const refOf = (
    request: ProviderCreateRequest,
    va: { providerAccount: string; providerReference: string; vaNumber: string },
  ): ProviderVaRef => ({
    ...va,
    bankCode: request.bankCode,
  });

  it("deletes the payment code; a retried cancel succeeds; payments are then refused", async () => {
    const request = createRequest();
    const va = refOf(request, await dgpc.createVirtualAccount(request, signal));
    await dgpc.cancelVirtualAccount(va, signal);
    await dgpc.cancelVirtualAccount(va, signal);
    expect(ledgerEntry(request.externalId).status).toBe("DELETED");
    expect(() => simulator.simulatePayment({ vaNumber: va.vaNumber, amount: 150_000n })).toThrow(DokuRefusal);
  });

  it("deletes merchant-generated BCA codes at their own endpoint", async () => {
    const request = createRequest({ numberSuffix: "8880001" });
    const va = refOf(request, await mgpc.createVirtualAccount(request, signal));
    await mgpc.cancelVirtualAccount(va, signal);
    expect(ledgerEntry(request.externalId).status).toBe("DELETED");
  });

  it("explains that DOKU cannot cancel at BSI, DOKU and BNI", async () => {
    const request = createRequest({ bankCode: "BSI" });
    const va = refOf(request, await dgpc.createVirtualAccount(request, signal));
    const error = await domainErrorOf(dgpc.cancelVirtualAccount(va, signal));
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { provider: "doku" } });
    expect(error.message).toMatch(/cannot cancel.*BSI/);
    expect(ledgerEntry(request.externalId).status).toBe("ACTIVE");
  });

  it("refuses to cancel a paid payment code", async () => {
    const request = createRequest();
    const va = refOf(request, await dgpc.createVirtualAccount(request, signal));
    simulator.simulatePayment({ vaNumber: va.vaNumber, amount: 150_000n });
    await simulator.idle();
    const error = await domainErrorOf(dgpc.cancelVirtualAccount(va, signal));
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "already_paid" } });
  });
});

describe("payment notifications", () => {
  async function issue(overrides: Partial<ProviderCreateRequest> = {}) {
    const request = createRequest(overrides);
    const va = await dgpc.createVirtualAccount(request, signal);
    return { request, va, ref: { ...va, bankCode: request.bankCode } };
  }

  it("arrive signed, verified and parsed to the exact bigint amount", async () => {
    const amount: Rupiah = 987_654_321_012n;
    const { va } = await issue({ amount: { type: "FIXED", amount } });
    const paid = simulator.simulatePayment({ vaNumber: va.vaNumber, amount });
    await simulator.idle();

    expect(notifications()).toHaveLength(1);
    const [notification] = notifications();
    expect(notification).toMatchObject({
      providerAccount: CLIENT_ID,
      providerPaymentRef: paid.providerPaymentRef,
      vaNumber: va.vaNumber,
      amount: 987_654_321_012n,
      fee: undefined,
      rawPayload: paid.delivery.delivery.body,
    });
    expect(typeof notification?.amount).toBe("bigint");
    expect(Math.abs((notification?.paidAt.getTime() ?? 0) - Date.now())).toBeLessThan(5_000);
    expect(paid.delivery).toMatchObject({ acknowledged: true, attempts: 1, lastStatus: 200 });
  });

  it("a repeated notification carries the same providerPaymentRef and is acknowledged as a duplicate", async () => {
    const { va } = await issue();
    const paid = simulator.simulatePayment({ vaNumber: va.vaNumber, amount: 150_000n });
    await simulator.idle();
    const { url, headers, body } = paid.delivery.delivery;
    const again = await fetch(url, { method: "POST", headers, body });

    expect(again.status).toBe(200);
    expect(notifications().map((n) => n.providerPaymentRef)).toEqual([paid.providerPaymentRef, paid.providerPaymentRef]);
    expect(receiver.outcomes).toEqual(["RECORDED", "DUPLICATE"]);
  });

  it("are retried on DOKU's schedule until acknowledged, each attempt as first signed", async () => {
    expect(DOKU_RETRY_DELAYS_MS).toEqual([30 * 60_000, 5.5 * 3_600_000, 6 * 3_600_000]);
    const { request, va } = await issue();
    receiver.failNext = 2;
    const paid = simulator.simulatePayment({ vaNumber: va.vaNumber, amount: 150_000n });
    await simulator.idle();

    expect(paid.delivery).toMatchObject({ acknowledged: true, attempts: 3, lastStatus: 200 });
    expect(notifications().map((n) => n.providerPaymentRef)).toEqual([paid.providerPaymentRef]);
    const [payment] = ledgerEntry(request.externalId).payments;
    expect(paid.delivery.delivery.headers["Request-Id"]).toBe(payment?.notificationRequestId);
    expect(paid.delivery.delivery.headers["Request-Timestamp"]).toBe(dokuTimestamp(payment?.paidAt ?? new Date(0)));
  });

  it("stop after DOKU's three retries", async () => {
    const { va } = await issue();
    receiver.failNext = 10;
    const paid = simulator.simulatePayment({ vaNumber: va.vaNumber, amount: 150_000n });
    await simulator.idle();
    expect(paid.delivery).toMatchObject({ acknowledged: false, attempts: 4, lastStatus: 503 });
    expect(notifications()).toHaveLength(0);
  });

  it("a reusable VA takes several payments, each with its own reference; a single-use VA only one", async () => {
    const reusable = await issue({ usage: "MULTI", amount: { type: "OPEN" } });
    const first = simulator.simulatePayment({ vaNumber: reusable.va.vaNumber, amount: 10_000n });
    const second = simulator.simulatePayment({ vaNumber: reusable.va.vaNumber, amount: 75_500n });
    await simulator.idle();
    expect(first.providerPaymentRef).not.toBe(second.providerPaymentRef);
    expect(notifications().map((n) => [n.providerPaymentRef, n.amount])).toEqual([
      [first.providerPaymentRef, 10_000n],
      [second.providerPaymentRef, 75_500n],
    ]);

    const single = await issue();
    simulator.simulatePayment({ vaNumber: single.va.vaNumber, amount: 150_000n });
    expect(() => simulator.simulatePayment({ vaNumber: single.va.vaNumber, amount: 150_000n })).toThrow(
      /already been paid|has been paid/,
    );
  });

  it("the simulator holds payers to the bill", async () => {
    const fixed = await issue();
    expect(() => simulator.simulatePayment({ vaNumber: fixed.va.vaNumber, amount: 149_999n })).toThrow(/equal the bill/);
    const range = await issue({ bankCode: "MANDIRI", amount: { type: "RANGE", min: 10_000n, max: 20_000n } });
    expect(() => simulator.simulatePayment({ vaNumber: range.va.vaNumber, amount: 20_001n })).toThrow(/within/);
    expect(() => simulator.simulatePayment({ vaNumber: "190060999999999", amount: 1n })).toThrow(/not registered/);
  });

  it("adapter.simulatePayment pays through the simulator and names the payment the webhook will carry", async () => {
    const { ref } = await issue();
    const { providerPaymentRef } = await dgpc.simulatePayment(ref, 150_000n, signal);
    await simulator.idle();
    expect(notifications().map((n) => n.providerPaymentRef)).toEqual([providerPaymentRef]);

    const paidAlready = await domainErrorOf(dgpc.simulatePayment(ref, 150_000n, signal));
    expect(paidAlready).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "already_paid" } });
    const other = await issue();
    const underpaid = await domainErrorOf(dgpc.simulatePayment(other.ref, 1n, signal));
    expect(underpaid).toMatchObject({
      kind: "INVALID_ARGUMENT",
      facts: { field: "amount", providerCode: "invalid_parameter" },
    });
  });
});

describe("receiveWebhook refuses what DOKU did not send", () => {
  const notificationBody = (amountLiteral = "150000", status = "SUCCESS", payment = ',"reference_number":"000000000777"') =>
    `{"service":{"id":"VIRTUAL_ACCOUNT"},"acquirer":{"id":"BCA"},"channel":{"id":"VIRTUAL_ACCOUNT_BCA"},` +
    `"transaction":{"status":"${status}","date":"2021-01-27T03:24:23Z","original_request_id":"15022aab"},` +
    `"order":{"invoice_number":"INV-20210124-0001","amount":${amountLiteral}},` +
    `"virtual_account_info":{"virtual_account_number":"1900600000000046"},` +
    `"virtual_account_payment":{"date":"20210127102423"${payment}}}`;

  function signedNotification(
    body: string,
    spoil: { path?: string; signedPath?: string; timestamp?: Date; headers?: Record<string, string | undefined> } = {},
  ): InboundHttpRequest {
    const requestId = "doku-notification-1";
    const requestTimestamp = dokuTimestamp(spoil.timestamp ?? new Date());
    const parts = {
      clientId: CLIENT_ID,
      requestId,
      requestTimestamp,
      requestTarget: spoil.signedPath ?? NOTIFICATION_PATH,
      body,
    };
    return {
      method: "POST",
      path: spoil.path ?? NOTIFICATION_PATH,
      headers: {
        "client-id": CLIENT_ID,
        "request-id": requestId,
        "request-timestamp": requestTimestamp,
        signature: signRequest(parts, SECRET_KEY),
        ...spoil.headers,
      },
      rawBody: Buffer.from(body),
    };
  }

  async function rejection(request: InboundHttpRequest, receiving: VaProvider = dgpc) {
    const result = await receiving.receiveWebhook(request);
    if (result.kind !== "rejected") throw new Error("expected a rejection");
    return { status: result.answer.status, body: JSON.parse(result.answer.body) as { error?: { code: string } } };
  }

  async function payment(request: InboundHttpRequest, receiving: VaProvider = dgpc) {
    const result = await receiving.receiveWebhook(request);
    if (result.kind !== "payment") throw new Error(`expected a payment, got ${JSON.stringify(result)}`);
    return result;
  }

  it("accepts DOKU's sample notification", async () => {
    const { notification, answer } = await payment(signedNotification(notificationBody()));
    expect(notification).toMatchObject({
      providerPaymentRef: "INV-20210124-0001#000000000777",
      vaNumber: "1900600000000046",
      amount: 150_000n,
      paidAt: new Date("2021-01-27T03:24:23Z"),
    });
    expect(answer("RECORDED").status).toBe(200);
    expect(answer("DUPLICATE").status).toBe(200);
    expect(answer("HELD").status).toBe(200);
    expect(answer("REFUTED")).toMatchObject({ status: 404, contentType: "application/json" });
  });

  it("names the payment by what check status can name again: the bank's identifiers, else the transaction date", async () => {
    const identified = ',"identifier":[{"name":"REFERENCE","value":"6769200"},{"name":"REQUEST_ID","value":"7892931"}]';
    const { notification } = await payment(signedNotification(notificationBody("150000", "SUCCESS", identified)));
    expect(notification.providerPaymentRef).toBe("INV-20210124-0001#REFERENCE=6769200;REQUEST_ID=7892931");
    const misspelt = identified.replace("identifier", "identifer");
    const same = await payment(signedNotification(notificationBody("150000", "SUCCESS", misspelt)));
    expect(same.notification.providerPaymentRef).toBe(notification.providerPaymentRef);
    const bare = await payment(signedNotification(notificationBody("150000", "SUCCESS", "")));
    expect(bare.notification.providerPaymentRef).toBe("INV-20210124-0001#2021-01-27T03:24:23Z");
    expect(bare.notification.providerVaId).toBe("INV-20210124-0001");
  });

  it("refuses a tampered body, a tampered signature and a foreign key", async () => {
    const request = signedNotification(notificationBody());
    const tamperedBody = { ...request, rawBody: Buffer.from(notificationBody("1500000")) };
    expect(await rejection(tamperedBody)).toEqual({
      status: 400,
      body: { error: expect.objectContaining({ code: "invalid_signature" }) },
    });
    const tamperedSignature = {
      ...request,
      headers: { ...request.headers, signature: `${request.headers.signature}x` },
    };
    expect((await rejection(tamperedSignature)).body.error?.code).toBe("invalid_signature");
    const foreignKey = provider({ secretKey: "SK-someone-else" });
    expect((await rejection(request, foreignKey)).body.error?.code).toBe("invalid_signature");
    const foreignClient = signedNotification(notificationBody(), { headers: { "client-id": "MCH-other" } });
    expect((await rejection(foreignClient)).body.error?.code).toBe("invalid_client_id");
  });

  it("checks the signature against our notification path, configurable behind path-rewriting proxies", async () => {
    const rewritten = signedNotification(notificationBody(), { path: "/internal/doku-in" });
    await payment(rewritten);
    const withoutConfiguredPath = provider({ notificationPath: undefined });
    expect((await rejection(rewritten, withoutConfiguredPath)).body.error?.code).toBe("invalid_signature");
    const signedForAnotherPath = signedNotification(notificationBody(), { signedPath: "/webhooks/other" });
    expect((await rejection(signedForAnotherPath)).body.error?.code).toBe("invalid_signature");
  });

  it("believes timestamps within 300 s; a correctly signed older one is doubtful, not refused", async () => {
    const at = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000);
    expect((await payment(signedNotification(notificationBody(), { timestamp: at(-290) }))).belief).toEqual({
      verified: true,
    });
    for (const offset of [-310, 310, -31 * 60]) {
      const { belief } = await payment(signedNotification(notificationBody(), { timestamp: at(offset) }));
      expect(belief, String(offset)).toEqual({ verified: false, doubt: expect.stringContaining("Request-Timestamp") });
    }
    const tampered = signedNotification(notificationBody(), { timestamp: at(-31 * 60) });
    tampered.headers["request-timestamp"] = dokuTimestamp(new Date());
    expect((await rejection(tampered)).body.error?.code).toBe("invalid_signature");
  });

  it("refuses missing headers, other methods and malformed JSON", async () => {
    const unsigned = signedNotification(notificationBody(), { headers: { signature: undefined } });
    expect((await rejection(unsigned)).body.error?.code).toBe("invalid_header");
    expect((await rejection({ ...signedNotification(notificationBody()), method: "GET" })).status).toBe(405);
    const malformed = await rejection(signedNotification(notificationBody().slice(0, -1)));
    expect(malformed).toEqual({ status: 400, body: { error: expect.objectContaining({ code: "invalid_parameter" }) } });
  });

  it("reads amounts exactly: whole rupiah only, never rounded", async () => {
    expect((await payment(signedNotification(notificationBody("150000.00")))).notification.amount).toBe(150_000n);
    for (const literal of ["150000.5", "150000.000000000000001", "1.5e5", '"150000"', "0", "-5", "1000000000000", "1e21"]) {
      const refused = await rejection(signedNotification(notificationBody(literal)));
      expect(refused, literal).toEqual({
        status: 400,
        body: { error: expect.objectContaining({ code: "invalid_parameter" }) },
      });
    }
  });

  it("acknowledges notifications that are no payment without recording them", async () => {
    const result = await dgpc.receiveWebhook(signedNotification(notificationBody("150000", "EXPIRED")));
    expect(result).toMatchObject({
      kind: "rejected",
      answer: { status: 200 },
      reason: expect.stringContaining("EXPIRED"),
    });
  });
});

describe("capabilities", () => {
  const bank = (code: string) => dokuCapabilities.banks.find((candidate) => candidate.bankCode === code);

  it("lists every bank DOKU's v2 API serves, with DOKU-generated 16-digit numbers", () => {
    expect(dokuCapabilities.provider).toBe("doku");
    expect(dokuCapabilities.banks.map((b) => b.bankCode).sort()).toEqual([
      "BCA",
      "BNI",
      "BRI",
      "BSI",
      "CIMB",
      "DANAMON",
      "DOKU",
      "MANDIRI",
      "PERMATA",
    ]);
    for (const capability of dokuCapabilities.banks) {
      expect(capability).toMatchObject({ maxSuffixDigits: 0, vaNumberDigits: { min: 16, max: 16 }, canUpdate: false });
    }
  });

  it("offers per bank the billing types and cancellation the adapter implements", () => {
    expect(bank("MANDIRI")?.combinations).toContainEqual({ usage: "MULTI", amountType: "RANGE" });
    expect(bank("BCA")?.combinations).toContainEqual({ usage: "SINGLE", amountType: "OPEN" });
    expect(bank("BSI")?.combinations).toEqual([
      { usage: "SINGLE", amountType: "FIXED" },
      { usage: "MULTI", amountType: "FIXED" },
    ]);
    expect(dokuCapabilities.banks.filter((b) => !b.canCancel).map((b) => b.bankCode)).toEqual(["BSI", "DOKU", "BNI"]);
  });

  it("leaves the free digits after our BIN to the suffix in MGPC", () => {
    const exclusive = dokuCapabilitiesFor({ mode: "MGPC", bin: MERCHANT_BIN }).banks[0];
    expect(exclusive).toMatchObject({ maxSuffixDigits: 14, vaNumberDigits: { min: 10, max: 23 } });
    const direct = dokuCapabilitiesFor({ mode: "MGPC", bin: "12345" }).banks[0];
    expect(direct).toMatchObject({ maxSuffixDigits: 18, vaNumberDigits: { min: 6, max: 23 } });
  });
});
