import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import type { AmountRule, VaUsage } from "../../src/domain/virtual-account.js";
import type {
  InboundHttpRequest,
  PaymentNotification,
  ProviderCreateRequest,
  ProviderVaRef,
  VaProvider,
  WebhookResult,
} from "../../src/providers/provider.js";
import { createSandboxProvider } from "../../src/providers/sandbox/adapter.js";
import { apiKeyAuthorization, signCallback } from "../../src/providers/sandbox/signature.js";
import { type SandboxSimulator, startSandboxSimulator } from "../../src/sandbox/sandbox/simulator.js";
import {
  createRequestBuilder,
  signal,
  startHttpServer,
  startWebhookReceiver,
  type WebhookReceiver,
  waitFor,
} from "../support/provider-harness.js";

const MERCHANT_ID = "merchant-0042";
const API_KEY = "sb_test_api_key_5d1c7e";
const WEBHOOK_SECRET = "sb_test_webhook_secret_93ab";
const FAST_RETRIES = [20, 20, 20];
const HOUR_MS = 3_600_000;

let externalIdCounter = 0;
const nextExternalId = () => `order-${++externalIdCounter}`;

const createRequest = createRequestBuilder(() => ({
  externalId: nextExternalId(),
  bankCode: "BNI",
  amount: { type: "FIXED", amount: 25_000n },
  expiresAt: new Date(Date.now() + HOUR_MS),
  description: "Invoice 42",
}));

const refOf = (va: { providerAccount: string; providerReference: string; vaNumber: string }, bankCode = "BNI") =>
  ({ ...va, bankCode }) satisfies ProviderVaRef;

/** Our webhook route, as the transport mounts it, in front of `provider`. */
const startReceiver = (provider: VaProvider) => startWebhookReceiver(() => provider, { path: "/webhooks/sandbox" });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function domainError(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError");
}

function paymentOf(result: WebhookResult | undefined): PaymentNotification {
  if (result?.kind !== "payment") throw new Error(`expected a payment, got ${JSON.stringify(result)}`);
  return result.notification;
}

function rejectionOf(result: WebhookResult): { status: number; body: unknown; reason: string } {
  if (result.kind !== "rejected") throw new Error("expected a rejection");
  return { status: result.answer.status, body: JSON.parse(result.answer.body), reason: result.reason };
}

describe("sandbox provider against its simulator", () => {
  let simulator: SandboxSimulator;
  let provider: ReturnType<typeof createSandboxProvider>;
  let receiver: WebhookReceiver;

  /** Calls the simulator directly, to see what the adapter cannot show. */
  async function sandboxApi(method: string, path: string, body?: unknown, apiKey = API_KEY) {
    const response = await fetch(`${simulator.url}${path}`, {
      method,
      headers: { authorization: apiKeyAuthorization(apiKey), "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const create = (overrides: Partial<ProviderCreateRequest> = {}) =>
    provider.createVirtualAccount(createRequest(overrides), signal);

  const wireVa = async (id: string) => (await sandboxApi("GET", `/v1/virtual-accounts/${id}`)).body;

  /** Pays through the adapter and returns the notification our webhook accepted. */
  async function pay(va: ProviderVaRef, amount: bigint): Promise<PaymentNotification> {
    const { providerPaymentRef } = await provider.simulatePayment(va, amount, signal);
    await simulator.idle();
    const notification = receiver.results
      .map((result) => (result.kind === "payment" ? result.notification : undefined))
      .find((candidate) => candidate?.providerPaymentRef === providerPaymentRef);
    if (notification === undefined) throw new Error("no callback accepted for the payment");
    return notification;
  }

  beforeAll(async () => {
    simulator = await startSandboxSimulator({
      merchantId: MERCHANT_ID,
      apiKey: API_KEY,
      webhookSecret: WEBHOOK_SECRET,
      retryDelaysMs: FAST_RETRIES,
    });
    provider = createSandboxProvider({
      baseUrl: simulator.url,
      merchantId: MERCHANT_ID,
      apiKey: API_KEY,
      webhookSecret: WEBHOOK_SECRET,
    });
    receiver = await startReceiver(provider);
    simulator.setCallbackUrl(receiver.url);
  });

  afterAll(async () => {
    await simulator.close();
    await receiver.close();
  });

  beforeEach(() => {
    receiver.failNext = 0;
  });

  describe("createVirtualAccount", () => {
    const combinations: Array<{ usage: VaUsage; amount: AmountRule; wire: Record<string, unknown> }> = [
      { usage: "SINGLE", amount: { type: "FIXED", amount: 25_000n }, wire: { amount_type: "fixed", amount: "25000" } },
      { usage: "SINGLE", amount: { type: "OPEN" }, wire: { amount_type: "open" } },
      {
        usage: "SINGLE",
        amount: { type: "RANGE", min: 10_000n, max: 50_000n },
        wire: { amount_type: "range", min_amount: "10000", max_amount: "50000" },
      },
      {
        usage: "MULTI",
        amount: { type: "FIXED", amount: 999_999_999_999n },
        wire: { amount_type: "fixed", amount: "999999999999" },
      },
      { usage: "MULTI", amount: { type: "OPEN" }, wire: { amount_type: "open" } },
      {
        usage: "MULTI",
        amount: { type: "RANGE", min: 1n, max: 2n },
        wire: { amount_type: "range", min_amount: "1", max_amount: "2" },
      },
    ];

    it.each(combinations)("creates a $usage $amount.type VA", async ({ usage, amount, wire }) => {
      const request = createRequest({ usage, amount });
      const va = await provider.createVirtualAccount(request, signal);

      expect(va.providerAccount).toBe(MERCHANT_ID);
      expect(va.providerReference).toMatch(/^sbva_[0-9a-f]{24}$/);
      expect(va.vaNumber).toMatch(/^8808[0-9]{12}$/);
      const stored = await wireVa(va.providerReference);
      expect(stored).toMatchObject({
        ...wire,
        id: va.providerReference,
        external_id: request.externalId,
        merchant_id: MERCHANT_ID,
        bank_code: "BNI",
        va_number: va.vaNumber,
        name: "Budi Santoso",
        usage: usage.toLowerCase(),
        status: "ACTIVE",
        expires_at: request.expiresAt.toISOString(),
      });
      for (const field of ["amount", "min_amount", "max_amount"]) {
        if (!(field in wire)) expect(stored).not.toHaveProperty(field);
      }
    });

    it("builds the number from the bank prefix, the merchant code and the zero-padded suffix", async () => {
      const bca = await create({ bankCode: "BCA", numberSuffix: "12345678901234" });
      const mandiri = await create({ bankCode: "MANDIRI", numberSuffix: "77" });

      expect(bca.vaNumber).toMatch(/^39012[0-9]{3}12345678901234$/);
      expect(mandiri.vaNumber).toMatch(/^89608[0-9]{3}00000077$/);
      expect(bca.vaNumber.slice(5, 8)).toBe(mandiri.vaNumber.slice(5, 8));
    });

    it("answers a retried create with the VA it already made", async () => {
      const request = createRequest({ numberSuffix: "5550001" });
      const first = await provider.createVirtualAccount(request, signal);
      const retried = await provider.createVirtualAccount(request, signal);

      expect(retried).toEqual(first);
      const lookup = await sandboxApi("GET", `/v1/virtual-accounts?external_id=${request.externalId}`);
      expect(lookup).toMatchObject({ status: 200, body: { data: [{ id: first.providerReference }] } });
    });

    it("adopts the VA an earlier attempt made when only the expiry was recomputed (crash recovery)", async () => {
      const request = createRequest();
      const first = await provider.createVirtualAccount(request, signal);
      const later = { ...request, expiresAt: new Date(request.expiresAt.getTime() + 60_000) };
      expect(await provider.createVirtualAccount(later, signal)).toEqual(first);
    });

    it("refuses the same external id with a different body as ALREADY_EXISTS", async () => {
      const request = createRequest();
      await provider.createVirtualAccount(request, signal);

      const error = await domainError(
        provider.createVirtualAccount({ ...request, amount: { type: "FIXED", amount: 26_000n } }, signal),
      );
      expect(error.kind).toBe("ALREADY_EXISTS");
      expect(error.facts).toMatchObject({
        field: "idempotency_key",
        provider: "sandbox",
        providerCode: "DUPLICATE_EXTERNAL_ID",
      });
    });

    const refusals: Array<{ name: string; request: Partial<ProviderCreateRequest>; field: string; code: string }> = [
      { name: "an unsupported bank", request: { bankCode: "JAGO" }, field: "bank_code", code: "BANK_NOT_SUPPORTED" },
      {
        name: "a suffix longer than the bank takes",
        request: { bankCode: "MANDIRI", numberSuffix: "12345678" },
        field: "number_suffix",
        code: "SUFFIX_TOO_LONG",
      },
      {
        name: "a suffix with letters",
        request: { numberSuffix: "12a" },
        field: "number_suffix",
        code: "VALIDATION_ERROR",
      },
      {
        name: "an expiry under a minute away",
        request: { expiresAt: new Date(Date.now() + 30_000) },
        field: "expires_at",
        code: "VALIDATION_ERROR",
      },
      {
        name: "an expiry over 90 days away",
        request: { expiresAt: new Date(Date.now() + 91 * 24 * HOUR_MS) },
        field: "expires_at",
        code: "VALIDATION_ERROR",
      },
      {
        name: "a zero fixed amount",
        request: { amount: { type: "FIXED", amount: 0n } },
        field: "amount.fixed.amount",
        code: "VALIDATION_ERROR",
      },
      {
        name: "a 13-digit range minimum",
        request: { amount: { type: "RANGE", min: 1_000_000_000_000n, max: 2_000_000_000_000n } },
        field: "amount.range.min",
        code: "VALIDATION_ERROR",
      },
      {
        name: "a range whose minimum is not below its maximum",
        request: { amount: { type: "RANGE", min: 50_000n, max: 50_000n } },
        field: "amount.range.max",
        code: "VALIDATION_ERROR",
      },
      {
        name: "an empty customer name",
        request: { customer: { name: "", email: "", phone: "" } },
        field: "customer.name",
        code: "VALIDATION_ERROR",
      },
      {
        name: "an external id with spaces",
        request: { externalId: "order 1" },
        field: "idempotency_key",
        code: "VALIDATION_ERROR",
      },
    ];

    it.each(refusals)("maps $name to INVALID_ARGUMENT on $field", async ({ request, field, code }) => {
      const error = await domainError(create(request));

      expect(error.kind).toBe("INVALID_ARGUMENT");
      expect(error.facts).toMatchObject({ field, provider: "sandbox", providerCode: code });
      expect(error.facts.providerMessage).toEqual(expect.any(String));
    });

    it("refuses a number an open VA holds, and frees it once that VA is closed", async () => {
      const holder = await create({ numberSuffix: "4242" });

      const error = await domainError(create({ numberSuffix: "4242" }));
      expect(error.kind).toBe("ALREADY_EXISTS");
      expect(error.facts).toMatchObject({ field: "number_suffix", providerCode: "VA_NUMBER_IN_USE" });

      await provider.cancelVirtualAccount(refOf(holder), signal);
      const reissued = await create({ numberSuffix: "4242" });
      expect(reissued.vaNumber).toBe(holder.vaNumber);
    });

    it("reports a wrong API key as FAILED_PRECONDITION without the key", async () => {
      const wrongKey = "sb_test_wrong_key_0000";
      const misconfigured = createSandboxProvider({
        baseUrl: simulator.url,
        merchantId: MERCHANT_ID,
        apiKey: wrongKey,
        webhookSecret: WEBHOOK_SECRET,
      });

      const error = await domainError(misconfigured.createVirtualAccount(createRequest(), signal));
      expect(error.kind).toBe("FAILED_PRECONDITION");
      expect(error.message).toBe("sandbox rejected our credentials");
      expect(error.facts).toMatchObject({ provider: "sandbox", providerCode: "UNAUTHORIZED" });
      const everything = `${error.message} ${JSON.stringify(error.facts)} ${error.stack}`;
      for (const secret of [wrongKey, API_KEY, apiKeyAuthorization(wrongKey)]) expect(everything).not.toContain(secret);
    });
  });

  describe("the simulator enforces the sandbox API", () => {
    const valid = () => ({
      external_id: nextExternalId(),
      bank_code: "BRI",
      name: "Siti",
      usage: "single",
      amount_type: "fixed",
      amount: "25000",
      expires_at: new Date(Date.now() + HOUR_MS).toISOString(),
    });

    const badBodies: Array<{ name: string; change: Record<string, unknown>; field: string; code?: string }> = [
      { name: "a numeric amount", change: { amount: 25000 }, field: "amount" },
      { name: "a leading zero", change: { amount: "025000" }, field: "amount" },
      { name: "a fractional amount", change: { amount: "25000.00" }, field: "amount" },
      { name: "a missing fixed amount", change: { amount: undefined }, field: "amount" },
      { name: "an amount on an open VA", change: { amount_type: "open" }, field: "amount" },
      { name: "a minimum on a fixed VA", change: { min_amount: "1000" }, field: "min_amount" },
      { name: "an unknown usage", change: { usage: "once" }, field: "usage" },
      { name: "an unknown amount type", change: { amount_type: "any" }, field: "amount_type" },
      { name: "a control character in the name", change: { name: "Siti\n" }, field: "name" },
      { name: "a 101-character name", change: { name: "x".repeat(101) }, field: "name" },
      { name: "a 65-character external id", change: { external_id: "x".repeat(65) }, field: "external_id" },
      { name: "an unparseable expiry", change: { expires_at: "tomorrow" }, field: "expires_at" },
      { name: "a day that does not exist", change: { expires_at: "2031-02-30T00:00:00Z" }, field: "expires_at" },
      { name: "a past expiry", change: { expires_at: "2020-01-01T00:00:00Z" }, field: "expires_at" },
      { name: "an empty suffix", change: { suffix: "" }, field: "suffix" },
      { name: "a numeric suffix", change: { suffix: 123 }, field: "suffix" },
      { name: "a ten-digit BRI suffix", change: { suffix: "1234567890" }, field: "suffix", code: "SUFFIX_TOO_LONG" },
      { name: "an unknown bank", change: { bank_code: "bri" }, field: "bank_code", code: "BANK_NOT_SUPPORTED" },
    ];

    it.each(badBodies)("rejects $name", async ({ change, field, code }) => {
      const answer = await sandboxApi("POST", "/v1/virtual-accounts", { ...valid(), ...change });

      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ error_code: code ?? "VALIDATION_ERROR", message: expect.any(String), field });
    });

    it("accepts a nine-digit BRI suffix and a range with its bounds", async () => {
      const answer = await sandboxApi("POST", "/v1/virtual-accounts", {
        ...valid(),
        amount: undefined,
        amount_type: "range",
        min_amount: "10000",
        max_amount: "50000",
        suffix: "123456789",
      });

      expect(answer.status).toBe(201);
      expect(answer.body.va_number).toMatch(/^26215[0-9]{3}123456789$/);
    });

    it("rejects a body that is not a JSON object", async () => {
      const answer = await sandboxApi("POST", "/v1/virtual-accounts", "[1,2]");
      expect(answer).toEqual({ status: 400, body: { error_code: "VALIDATION_ERROR", message: expect.any(String) } });
    });

    it("rejects missing or wrong credentials on every route", async () => {
      const noAuth = await fetch(`${simulator.url}/v1/virtual-accounts?external_id=x`);
      expect(noAuth.status).toBe(401);
      expect(await noAuth.json()).toEqual({ error_code: "UNAUTHORIZED", message: "invalid API key" });

      const wrong = await sandboxApi("POST", "/v1/virtual-accounts", valid(), "not-the-key");
      expect(wrong).toEqual({ status: 401, body: { error_code: "UNAUTHORIZED", message: "invalid API key" } });
    });

    it("answers unknown VAs with NOT_FOUND", async () => {
      const unknown = `sbva_${"0".repeat(24)}`;
      expect(await sandboxApi("GET", `/v1/virtual-accounts/${unknown}`)).toMatchObject({
        status: 404,
        body: { error_code: "NOT_FOUND" },
      });
      const payment = await sandboxApi("POST", `/v1/virtual-accounts/${unknown}/simulate-payment`, { amount: "1" });
      expect(payment).toMatchObject({ status: 404, body: { error_code: "NOT_FOUND" } });
      expect(await sandboxApi("GET", "/v1/virtual-accounts?external_id=never-used")).toEqual({
        status: 200,
        body: { data: [] },
      });
    });

    it("refuses payment into a closed VA unless forced, and validates the amount", async () => {
      const va = await create();
      await provider.cancelVirtualAccount(refOf(va), signal);
      const path = `/v1/virtual-accounts/${va.providerReference}/simulate-payment`;

      expect(await sandboxApi("POST", path, { amount: "25000" })).toMatchObject({
        status: 409,
        body: { error_code: "VA_INACTIVE" },
      });
      expect(await sandboxApi("POST", path, { amount: "-5", force: true })).toMatchObject({
        status: 400,
        body: { error_code: "VALIDATION_ERROR", field: "amount" },
      });
      expect(await sandboxApi("POST", path, { amount: "5", force: "yes" })).toMatchObject({
        status: 400,
        body: { error_code: "VALIDATION_ERROR", field: "force" },
      });
    });
  });

  describe("cancelVirtualAccount", () => {
    it("cancels, and cancelling again is fine", async () => {
      const va = await create();

      await provider.cancelVirtualAccount(refOf(va), signal);
      await provider.cancelVirtualAccount(refOf(va), signal);
      expect((await wireVa(va.providerReference)).status).toBe("CANCELLED");
    });

    it("refuses to cancel a paid single-use VA", async () => {
      const va = await create();
      await pay(refOf(va), 25_000n);

      const error = await domainError(provider.cancelVirtualAccount(refOf(va), signal));
      expect(error.kind).toBe("FAILED_PRECONDITION");
      expect(error.facts).toMatchObject({ provider: "sandbox", providerCode: "ALREADY_PAID" });
    });

    it("cancels a paid multi-use VA", async () => {
      const va = await create({ usage: "MULTI" });
      await pay(refOf(va), 25_000n);

      await provider.cancelVirtualAccount(refOf(va), signal);
      expect((await wireVa(va.providerReference)).status).toBe("CANCELLED");
    });

    it("reports an unknown VA as NOT_FOUND", async () => {
      const unknown = { providerAccount: MERCHANT_ID, providerReference: `sbva_${"f".repeat(24)}`, vaNumber: "1" };
      const error = await domainError(provider.cancelVirtualAccount(refOf(unknown), signal));
      expect(error.kind).toBe("NOT_FOUND");
      expect(error.facts.providerCode).toBe("NOT_FOUND");
    });
  });

  describe("simulated payments and their callbacks", () => {
    it("delivers a signed callback the adapter turns into an exact payment", async () => {
      const va = await create();
      const before = Date.now();

      const notification = await pay(refOf(va), 25_000n);

      expect(notification).toMatchObject({
        providerAccount: MERCHANT_ID,
        providerPaymentRef: expect.stringMatching(/^sbpay_[0-9a-f]{24}$/),
        vaNumber: va.vaNumber,
        amount: 25_000n,
        fee: 2_500n,
      });
      expect(notification.paidAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      const delivered = receiver.requests.at(-1);
      expect(notification.rawPayload).toBe(delivered?.rawBody.toString("utf8"));
      expect(JSON.parse(notification.rawPayload)).toMatchObject({
        event: "payment.succeeded",
        virtual_account_id: va.providerReference,
        bank_code: "BNI",
        amount: "25000",
        fee: "2500",
      });
      expect(simulator.ledger.at(-1)).toMatchObject({
        paymentId: notification.providerPaymentRef,
        virtualAccountId: va.providerReference,
        amount: 25_000n,
      });
      expect(simulator.deliveries.at(-1)).toMatchObject({ attempts: 1, acknowledged: true, lastStatus: 200 });
      expect((await wireVa(va.providerReference)).status).toBe("COMPLETED");
    });

    it("keeps amounts exact at the edges and charges no fee up to 2500", async () => {
      const va = await create({ usage: "MULTI", amount: { type: "OPEN" } });

      expect(await pay(refOf(va), 2_500n)).toMatchObject({ amount: 2_500n, fee: 0n });
      expect(await pay(refOf(va), 2_501n)).toMatchObject({ amount: 2_501n, fee: 2_500n });
      expect(await pay(refOf(va), 999_999_999_999n)).toMatchObject({ amount: 999_999_999_999n, fee: 2_500n });
      expect((await wireVa(va.providerReference)).status).toBe("PAID");
    });

    it("pays a cancelled VA when forced, as the bank may have taken the money first", async () => {
      const va = await create();
      await provider.cancelVirtualAccount(refOf(va), signal);

      expect(await pay(refOf(va), 10_000n)).toMatchObject({ amount: 10_000n });
      expect((await wireVa(va.providerReference)).status).toBe("CANCELLED");
    });

    it("is acknowledged as a duplicate when delivered twice", async () => {
      const va = await create();
      await pay(refOf(va), 25_000n);
      const delivered = receiver.requests.at(-1);
      if (delivered === undefined) throw new Error("no delivery");

      const replay = await fetch(receiver.url, {
        method: "POST",
        headers: delivered.headers as Record<string, string>,
        body: delivered.rawBody,
      });
      expect(replay.status).toBe(200);
      expect(await replay.json()).toEqual({ received: true, duplicate: true });
    });

    it("retries until the receiver answers 2xx, signing each attempt afresh over the same body", async () => {
      const va = await create();
      receiver.failNext = 2;
      const requestsBefore = receiver.requests.length;

      await pay(refOf(va), 25_000n);

      const attempts = receiver.requests.slice(requestsBefore);
      expect(attempts).toHaveLength(3);
      expect(new Set(attempts.map((attempt) => attempt.rawBody.toString())).size).toBe(1);
      expect(simulator.deliveries.at(-1)).toMatchObject({ attempts: 3, acknowledged: true, lastStatus: 200 });
      for (const attempt of attempts) expect((await provider.receiveWebhook(attempt)).kind).toBe("payment");
    });

    it("answers a payment it holds (unknown VA) with 200, and one the sandbox denies with 404", async () => {
      const va = await create();
      const normal = receiver.record;
      receiver.record = () => "HELD";
      try {
        await pay(refOf(va), 25_000n);
      } finally {
        receiver.record = normal;
      }

      expect(simulator.deliveries.at(-1)).toMatchObject({ attempts: 1, acknowledged: true });
      const held = receiver.results.at(-1);
      if (held?.kind !== "payment") throw new Error("expected a payment");
      expect(held.answer("HELD")).toEqual({
        status: 200,
        contentType: "application/json",
        body: '{"received":true,"duplicate":false}',
      });
      expect(held.answer("REFUTED")).toEqual({
        status: 404,
        contentType: "application/json",
        body: '{"error":"PAYMENT_NOT_CONFIRMED"}',
      });
    });
  });

  describe("receiveWebhook rejects what it cannot trust", () => {
    const callback = (overrides: Record<string, unknown> = {}) =>
      JSON.stringify({
        event: "payment.succeeded",
        payment_id: `sbpay_${"a1".repeat(12)}`,
        virtual_account_id: `sbva_${"b2".repeat(12)}`,
        external_id: "order-x",
        merchant_id: MERCHANT_ID,
        va_number: "8808123000000042",
        bank_code: "BNI",
        amount: "25000",
        fee: "2500",
        paid_at: new Date().toISOString(),
        ...overrides,
      });

    function signed(body: string, options: { timestamp?: number; secret?: string } = {}): InboundHttpRequest {
      const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
      return {
        method: "POST",
        path: "/webhooks/sandbox",
        headers: {
          "content-type": "application/json",
          "x-sandbox-timestamp": timestamp,
          "x-sandbox-signature": signCallback(options.secret ?? WEBHOOK_SECRET, timestamp, body),
        },
        rawBody: Buffer.from(body),
      };
    }

    async function rejected(request: InboundHttpRequest) {
      const rejection = rejectionOf(await provider.receiveWebhook(request));
      const signature = request.headers["x-sandbox-signature"] ?? "";
      expect(rejection.reason).not.toContain(WEBHOOK_SECRET);
      if (signature !== "") expect(rejection.reason).not.toContain(signature.slice(3, 19));
      return { status: rejection.status, body: rejection.body };
    }

    it("accepts a well-formed callback, fee optional and two-decimal amounts exact", async () => {
      const withFee = paymentOf(await provider.receiveWebhook(signed(callback({ amount: "25000.00" }))));
      expect(withFee).toMatchObject({ amount: 25_000n, fee: 2_500n });
      const withoutFee = paymentOf(await provider.receiveWebhook(signed(callback({ fee: undefined }))));
      expect(withoutFee.fee).toBeUndefined();
    });

    it("rejects a tampered body", async () => {
      const request = signed(callback());
      const tampered = { ...request, rawBody: Buffer.from(callback({ amount: "2500000" })) };
      expect(await rejected(tampered)).toEqual({ status: 401, body: { error: "INVALID_SIGNATURE" } });
    });

    it("rejects a tampered or foreign signature", async () => {
      const request = signed(callback());
      const signature = request.headers["x-sandbox-signature"] ?? "";
      const flipped = `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`;
      const tampered = { ...request, headers: { ...request.headers, "x-sandbox-signature": flipped } };

      expect(await rejected(tampered)).toEqual({ status: 401, body: { error: "INVALID_SIGNATURE" } });
      expect(await rejected(signed(callback(), { secret: "someone-else" }))).toEqual({
        status: 401,
        body: { error: "INVALID_SIGNATURE" },
      });
    });

    it("rejects missing or malformed signature headers", async () => {
      const request = signed(callback());
      const without = (name: string) => ({ ...request, headers: { ...request.headers, [name]: undefined } });
      const replaced = (name: string, value: string) => ({
        ...request,
        headers: { ...request.headers, [name]: value },
      });

      for (const broken of [
        without("x-sandbox-signature"),
        without("x-sandbox-timestamp"),
        replaced("x-sandbox-signature", (request.headers["x-sandbox-signature"] ?? "").replace("v1=", "v2=")),
        replaced("x-sandbox-timestamp", "1e9"),
      ]) {
        expect(await rejected(broken)).toEqual({ status: 401, body: { error: "INVALID_SIGNATURE" } });
      }
    });

    it("doubts a correctly signed callback whose timestamp is more than the tolerance away, either way", async () => {
      const nowSeconds = Math.floor(Date.now() / 1000);
      for (const timestamp of [nowSeconds - 400, nowSeconds + 400]) {
        const result = await provider.receiveWebhook(signed(callback(), { timestamp }));
        if (result.kind !== "payment") throw new Error("expected a payment");
        expect(result.belief).toMatchObject({ verified: false, doubt: expect.stringContaining("away from our clock") });
      }
      const fresh = await provider.receiveWebhook(signed(callback(), { timestamp: nowSeconds - 250 }));
      expect(fresh.kind === "payment" && fresh.belief).toEqual({ verified: true });
      // A stale forgery is still forged.
      expect(await rejected(signed(callback(), { timestamp: nowSeconds - 400, secret: "someone-else" }))).toEqual({
        status: 401,
        body: { error: "INVALID_SIGNATURE" },
      });
    });

    it("confirms a genuine callback replayed after the tolerance with the sandbox, and refutes an invented one", async () => {
      const genuine = receiver.requests.find((request) => request.rawBody.length > 0);
      if (genuine === undefined) throw new Error("no genuine callback captured");
      const later = createSandboxProvider({
        baseUrl: simulator.url,
        merchantId: MERCHANT_ID,
        apiKey: API_KEY,
        webhookSecret: WEBHOOK_SECRET,
        webhookToleranceSeconds: 60,
        now: () => new Date(Date.now() + 61_000),
      });

      const late = await later.receiveWebhook(genuine);
      if (late.kind !== "payment") throw new Error("expected a payment");
      expect(late.belief.verified).toBe(false);
      const confirmed = await later.confirmPayment(late.notification, signal);
      expect(confirmed).toEqual({ paid: true, notification: { ...late.notification, rawPayload: expect.any(String) } });
      const invented = { ...late.notification, providerPaymentRef: `sbpay_${"c3".repeat(12)}` };
      expect(await later.confirmPayment(invented, signal)).toMatchObject({ paid: false });
    });

    it("rejects another merchant's callback even when correctly signed", async () => {
      expect(await rejected(signed(callback({ merchant_id: "merchant-9999" })))).toEqual({
        status: 400,
        body: { error: "MALFORMED_PAYLOAD", field: "merchant_id" },
      });
    });

    it("rejects a signed body that is not JSON", async () => {
      expect(await rejected(signed("{not json"))).toEqual({ status: 400, body: { error: "MALFORMED_PAYLOAD" } });
      expect(await rejected(signed("[]"))).toEqual({ status: 400, body: { error: "MALFORMED_PAYLOAD" } });
    });

    const malformed: Array<{ change: Record<string, unknown>; field: string }> = [
      { change: { event: "payment.failed" }, field: "event" },
      { change: { payment_id: "sbpay_123" }, field: "payment_id" },
      { change: { va_number: "8808-1230" }, field: "va_number" },
      { change: { va_number: "1".repeat(24) }, field: "va_number" },
      { change: { amount: 25000 }, field: "amount" },
      { change: { amount: "25000.5" }, field: "amount" },
      { change: { amount: "0" }, field: "amount" },
      { change: { amount: "-25000" }, field: "amount" },
      { change: { fee: "2.5e3" }, field: "fee" },
      { change: { fee: null }, field: "fee" },
      { change: { paid_at: "yesterday" }, field: "paid_at" },
      { change: { paid_at: "2024-02-30T10:00:00Z" }, field: "paid_at" },
    ];

    it.each(malformed)("rejects a callback with a bad $field: $change", async ({ change, field }) => {
      expect(await rejected(signed(callback(change)))).toEqual({
        status: 400,
        body: { error: "MALFORMED_PAYLOAD", field },
      });
    });

    it("answers 405 to anything but POST", async () => {
      expect(await rejected({ ...signed(callback()), method: "GET" })).toEqual({
        status: 405,
        body: { error: "METHOD_NOT_ALLOWED" },
      });
    });
  });
});

describe("sandbox simulator lifecycle", () => {
  it("stops retrying once closed", async () => {
    const simulator = await startSandboxSimulator({
      merchantId: MERCHANT_ID,
      apiKey: API_KEY,
      webhookSecret: WEBHOOK_SECRET,
      retryDelaysMs: [50, 50, 50, 50, 50],
    });
    const provider = createSandboxProvider({
      baseUrl: simulator.url,
      merchantId: MERCHANT_ID,
      apiKey: API_KEY,
      webhookSecret: WEBHOOK_SECRET,
    });
    const receiver = await startReceiver(provider);
    receiver.failNext = Number.POSITIVE_INFINITY;
    simulator.setCallbackUrl(receiver.url);
    try {
      const va = await provider.createVirtualAccount(createRequest(), signal);
      await provider.simulatePayment(refOf(va), 25_000n, signal);
      await waitFor(() => receiver.requests.length >= 1);

      await simulator.close();
      await simulator.idle();
      const attemptsAtClose = receiver.requests.length;
      await sleep(200);

      expect(receiver.requests.length).toBe(attemptsAtClose);
      expect(attemptsAtClose).toBeLessThan(6);
      expect(simulator.deliveries[0]).toMatchObject({ acknowledged: false });
    } finally {
      await receiver.close();
    }
  });

  it("expires VAs by its own clock and then refuses unforced payments and cancels", async () => {
    let clock = new Date();
    const simulator = await startSandboxSimulator({
      merchantId: MERCHANT_ID,
      apiKey: API_KEY,
      webhookSecret: WEBHOOK_SECRET,
      now: () => clock,
    });
    const provider = createSandboxProvider({
      baseUrl: simulator.url,
      merchantId: MERCHANT_ID,
      apiKey: API_KEY,
      webhookSecret: WEBHOOK_SECRET,
    });
    try {
      const request = createRequest({ expiresAt: new Date(clock.getTime() + 120_000), numberSuffix: "99" });
      const va = await provider.createVirtualAccount(request, signal);
      clock = new Date(clock.getTime() + 180_000);

      const error = await domainError(provider.cancelVirtualAccount(refOf(va), signal));
      expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "VA_INACTIVE" } });
      const paid = await provider.simulatePayment(refOf(va), 25_000n, signal);
      expect(simulator.ledger).toEqual([expect.objectContaining({ paymentId: paid.providerPaymentRef, amount: 25_000n })]);
      expect(simulator.deliveries).toEqual([]);
      const reissued = await provider.createVirtualAccount(
        createRequest({ expiresAt: new Date(clock.getTime() + HOUR_MS), numberSuffix: "99" }),
        signal,
      );
      expect(reissued.vaNumber).toBe(va.vaNumber);
    } finally {
      await simulator.close();
    }
  });
});

describe("sandbox provider when the sandbox misbehaves", () => {
  async function withServer(
    handle: (respond: (status: number, body: string) => void) => void,
    test: (url: string, requests: () => number) => Promise<void>,
  ) {
    let requests = 0;
    const server = await startHttpServer((req, res) => {
      requests++;
      req.resume();
      handle((status, body) => res.writeHead(status, { "content-type": "application/json" }).end(body));
    });
    try {
      await test(server.url, () => requests);
    } finally {
      await server.close();
    }
  }

  // Generous unless the timeout is what the test is about: a busy machine may answer late.
  const providerAt = (baseUrl: string, timeoutMs = 10_000) =>
    createSandboxProvider({
      baseUrl,
      merchantId: MERCHANT_ID,
      apiKey: API_KEY,
      webhookSecret: WEBHOOK_SECRET,
      timeoutMs,
    });

  it("reports a 5xx as UNAVAILABLE", async () => {
    await withServer(
      (respond) => respond(503, '{"error_code":"MAINTENANCE","message":"back soon"}'),
      async (url) => {
        const error = await domainError(providerAt(url).createVirtualAccount(createRequest(), signal));
        expect(error).toMatchObject({ kind: "UNAVAILABLE", facts: { provider: "sandbox", providerCode: "503" } });
      },
    );
  });

  it("reports a success without a VA as UNAVAILABLE", async () => {
    await withServer(
      (respond) => respond(201, '{"id":"nope"}'),
      async (url) => {
        const error = await domainError(providerAt(url).createVirtualAccount(createRequest(), signal));
        expect(error.kind).toBe("UNAVAILABLE");
      },
    );
  });

  it("does not retry a create that timed out", async () => {
    await withServer(
      () => {},
      async (url, requests) => {
        const error = await domainError(providerAt(url, 200).createVirtualAccount(createRequest(), signal));
        expect(error.kind).toBe("DEADLINE_EXCEEDED");
        await sleep(100);
        expect(requests()).toBe(1);
      },
    );
  });
});
