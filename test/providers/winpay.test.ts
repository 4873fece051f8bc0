import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { newExternalId } from "../../src/protocols/snap/headers.js";
import { signAsymmetric } from "../../src/protocols/snap/signature.js";
import { formatSnapTimestamp } from "../../src/protocols/snap/timestamp.js";
import type { InboundHttpRequest, ProviderCreateRequest, ProviderVaRef } from "../../src/providers/provider.js";
import { createWinpayProvider, type WinpayProvider } from "../../src/providers/winpay/adapter.js";
import { winpayCapabilities } from "../../src/providers/winpay/capabilities.js";
import { readPaymentCallback, toCreateVaRequest, toPaymentNotification } from "../../src/providers/winpay/transformers.js";
import { startWinpaySimulator, type WinpaySimulator } from "../../src/sandbox/winpay/simulator.js";
import { createRequestBuilder, signal, startWebhookReceiver, type WebhookReceiver } from "../support/provider-harness.js";
import { WINPAY_CALLBACK_VECTOR, WINPAY_SANDBOX_PUBLIC_KEY } from "./snap/fixtures.js";
import { generateRsaKeyPair } from "./snap/keys.js";

/** The Winpay adapter against the Winpay simulator, over real HTTP, callbacks included. */

const PARTNER_ID = "170041";
const CALLBACK_PATH = "/webhooks/winpay/v1.0/transfer-va/payment";
const ACK = '{"responseCode":"2002500","responseMessage":"Successful"}';
const merchantKeys = generateRsaKeyPair();
const winpayKeys = generateRsaKeyPair();

let receiver: WebhookReceiver;
let simulator: WinpaySimulator;
let provider: WinpayProvider;
/** Shifts the simulator's clock against ours. */
let simulatorClockOffsetMs = 0;

beforeAll(async () => {
  // Our webhook route, as the transport will mount it: hand the raw request to the adapter.
  receiver = await startWebhookReceiver(() => provider, {
    path: CALLBACK_PATH,
    outage: { status: 500, body: { error: "DATABASE_DOWN" } },
    record: () => "RECORDED",
  });
  simulator = await startWinpaySimulator({
    merchant: { partnerId: PARTNER_ID, publicKey: merchantKeys.publicKey, callbackUrl: receiver.url },
    winpayPrivateKey: winpayKeys.privateKey,
    callbackRetryDelaysMs: [20, 20],
    now: () => new Date(Date.now() + simulatorClockOffsetMs),
  });
  provider = createWinpayProvider({
    baseUrl: simulator.baseUrl,
    partnerId: PARTNER_ID,
    privateKey: merchantKeys.privateKey,
    winpayPublicKey: winpayKeys.publicKey,
    timeoutMs: 5_000,
  });
});

afterAll(async () => {
  await simulator.close();
  await receiver.close();
});

beforeEach(() => {
  simulatorClockOffsetMs = 0;
  receiver.reset();
});

const inOneDay = () => new Date(Date.now() + 24 * 3_600_000);

const createRequest = createRequestBuilder(() => ({
  externalId: `INV-${randomUUID()}`,
  bankCode: "CIMB",
  expiresAt: inOneDay(),
  amount: { type: "FIXED", amount: 25_000n },
  customer: { name: "Chus Pandi", email: "chus@example.com", phone: "+628123456789" },
  description: "Order 42",
}));

async function createVa(overrides: Partial<ProviderCreateRequest> = {}): Promise<ProviderVaRef & { providerVaId?: string }> {
  const request = createRequest(overrides);
  const created = await provider.createVirtualAccount(request, signal);
  return { ...created, bankCode: request.bankCode };
}

const contractIdOf = (va: ProviderVaRef) => va.providerReference.split(":")[0] ?? "";

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

describe("create-va", () => {
  it("creates a one-off VA (c) for SINGLE + FIXED", async () => {
    const request = createRequest();
    const created = await provider.createVirtualAccount(request, signal);
    expect(created.providerAccount).toBe(PARTNER_ID);
    expect(created.providerReference).toMatch(new RegExp(`^ci[0-9a-f-]{36}:${request.externalId}$`));
    expect(created.vaNumber).toMatch(/^22691\d{11}$/);
    const va = simulator.virtualAccount(created.providerReference.split(":")[0] ?? "");
    expect(va).toMatchObject({ type: "c", totalAmount: 25_000n, channel: "CIMB", trxId: request.externalId });
    expect(va?.virtualAccountNo).toBe(`   ${created.vaNumber}`);
    expect(va?.expiredDate).toBe(formatSnapTimestamp(request.expiresAt));
  });

  it("creates an open recurring VA (o) for MULTI + OPEN, with our number and the 8-char padding", async () => {
    const va = await createVa({ bankCode: "BSI", usage: "MULTI", amount: { type: "OPEN" }, numberSuffix: "000003212" });
    expect(va.vaNumber).toBe("9042000003212");
    const simulated = simulator.virtualAccount(contractIdOf(va));
    expect(simulated).toMatchObject({ type: "o", totalAmount: undefined, virtualAccountNo: "    9042000003212" });
  });

  it("creates a closed recurring VA (r) for MULTI + FIXED", async () => {
    const va = await createVa({
      bankCode: "PERMATA",
      usage: "MULTI",
      amount: { type: "FIXED", amount: 150_000n },
      numberSuffix: "8123456",
    });
    expect(simulator.virtualAccount(contractIdOf(va))).toMatchObject({ type: "r", totalAmount: 150_000n });
  });

  it("cleans a customer name into Winpay's 5-24 allowed characters", async () => {
    const va = await createVa({ customer: { name: "Li", email: "", phone: "" } });
    expect(simulator.virtualAccount(contractIdOf(va))?.virtualAccountName).toBe("Customer Li");
    const long = await createVa({ customer: { name: "Siti Nurhaliza binti Tarudin (Dato')", email: "", phone: "" } });
    expect(simulator.virtualAccount(contractIdOf(long))?.virtualAccountName).toBe("Siti Nurhaliza binti Tar");
  });

  it.each([
    ["SINGLE + OPEN", { amount: { type: "OPEN" } }, "amount.open"],
    ["a RANGE amount", { usage: "MULTI", amount: { type: "RANGE", min: 1n, max: 2n } }, "amount.range"],
    ["open recurring on BNI", { bankCode: "BNI", usage: "MULTI", amount: { type: "OPEN" }, numberSuffix: "123" }, "bank_code"],
    ["an unknown channel", { bankCode: "DANAMON" }, "bank_code"],
    ["a multi-use VA without a number", { usage: "MULTI", amount: { type: "OPEN" } }, "number_suffix"],
    ["a 15-digit number", { numberSuffix: "123456789012345" }, "number_suffix"],
    ["more than Winpay's 14-character amount", { amount: { type: "FIXED", amount: 100_000_000_000n } }, "amount.fixed.amount"],
    ["an expiry 30 seconds ahead", { expiresAt: new Date(Date.now() + 30_000) }, "expires_at"],
    ["an expiry 4 months ahead", { expiresAt: new Date(Date.now() + 122 * 24 * 3_600_000) }, "expires_at"],
  ] as const)("refuses %s with INVALID_ARGUMENT naming the field", async (_, overrides, field) => {
    const error = await failure(
      provider.createVirtualAccount(createRequest(overrides as Partial<ProviderCreateRequest>), signal),
    );
    expect(error.kind).toBe("INVALID_ARGUMENT");
    expect(error.facts.field).toBe(field);
    expect(error.facts.providerCode).toBeUndefined(); // refused before calling Winpay
  });

  it("offers exactly the usage × amount pairs its capabilities list, per channel", () => {
    const amounts = { FIXED: { type: "FIXED", amount: 10_000n }, OPEN: { type: "OPEN" } } as const;
    for (const bank of winpayCapabilities.banks) {
      for (const usage of ["SINGLE", "MULTI"] as const) {
        for (const amountType of ["FIXED", "OPEN"] as const) {
          const request = createRequest({ bankCode: bank.bankCode, usage, amount: amounts[amountType], numberSuffix: "1234" });
          const listed = bank.combinations.some((pair) => pair.usage === usage && pair.amountType === amountType);
          const build = () => toCreateVaRequest(request, new Date());
          if (listed) expect(build).not.toThrow();
          else expect(build).toThrow(DomainError);
        }
      }
    }
  });

  it("reports a duplicate trxId it cannot adopt as FAILED_PRECONDITION with Winpay's code", async () => {
    const request = createRequest();
    await provider.createVirtualAccount(request, signal);
    const error = await failure(provider.createVirtualAccount(request, signal));
    expect(error).toMatchObject({
      kind: "FAILED_PRECONDITION",
      facts: { provider: "winpay", providerCode: "4092701", providerMessage: "Duplicate trxId" },
    });
    expect(error.message).toContain("cannot look it up by trxId");
  });

  it("maps Winpay's field in a refusal back to ours", async () => {
    simulatorClockOffsetMs = 45_000; // Winpay's clock is ahead: 90 s is less than its 1-minute minimum
    const error = await failure(
      provider.createVirtualAccount(createRequest({ expiresAt: new Date(Date.now() + 90_000) }), signal),
    );
    expect(error).toMatchObject({
      kind: "INVALID_ARGUMENT",
      facts: { field: "expires_at", providerCode: "4002701", providerMessage: "Invalid Field Format {expiredDate}" },
    });
  });
});

describe("the simulator validates like Winpay", () => {
  interface SendOptions {
    method?: string;
    path?: string;
    externalId?: string;
    partnerId?: string;
    privateKey?: string;
  }

  async function send(body: unknown, options: SendOptions = {}) {
    const path = options.path ?? "/v1.0/transfer-va/create-va";
    const method = options.method ?? "POST";
    const text = JSON.stringify(body);
    const timestamp = formatSnapTimestamp(new Date());
    const response = await fetch(simulator.baseUrl + path, {
      method,
      headers: {
        "Content-Type": "application/json",
        "X-TIMESTAMP": timestamp,
        "X-SIGNATURE": signAsymmetric({ method, path, body: text, timestamp }, options.privateKey ?? merchantKeys.privateKey),
        "X-PARTNER-ID": options.partnerId ?? PARTNER_ID,
        "X-EXTERNAL-ID": options.externalId ?? newExternalId(),
        "CHANNEL-ID": "WEB",
      },
      body: text,
    });
    return { status: response.status, body: (await response.json()) as { responseCode: string; responseMessage: string } };
  }

  const createBody = (overrides: Record<string, unknown> = {}) => ({
    virtualAccountName: "Chus Pandi",
    trxId: `INV-${randomUUID()}`,
    totalAmount: { value: "25000.00", currency: "IDR" },
    virtualAccountTrxType: "c",
    expiredDate: formatSnapTimestamp(inOneDay()),
    additionalInfo: { channel: "CIMB" },
    ...overrides,
  });

  it.each([
    ["a 2-character name", { virtualAccountName: "Li" }, "4002701", "Invalid Field Format {virtualAccountName}"],
    [
      "a name with other characters",
      { virtualAccountName: "Chus@Pandi" },
      "4002701",
      "Invalid Field Format {virtualAccountName}",
    ],
    ["a trxId with a space", { trxId: "INV 0001" }, "4002701", "Invalid Field Format {trxId}"],
    ["a missing trxId", { trxId: undefined }, "4002702", "Invalid Mandatory Field {trxId}"],
    ["a one-off VA without totalAmount", { totalAmount: undefined }, "4002702", "Invalid Mandatory Field {totalAmount}"],
    [
      "a fraction of a rupiah",
      { totalAmount: { value: "25000.50", currency: "IDR" } },
      "4002701",
      "Invalid Field Format {totalAmount.value}",
    ],
    [
      "a 15-character amount",
      { totalAmount: { value: "100000000000.00", currency: "IDR" } },
      "4002701",
      "Invalid Field Format {totalAmount.value}",
    ],
    ["USD", { totalAmount: { value: "25000.00", currency: "USD" } }, "4002701", "Invalid Field Format {totalAmount.currency}"],
    [
      "an expiry within a minute",
      { expiredDate: formatSnapTimestamp(new Date(Date.now() + 50_000)) },
      "4002701",
      "Invalid Field Format {expiredDate}",
    ],
    [
      "an expiry beyond 3 months",
      { expiredDate: formatSnapTimestamp(new Date(Date.now() + 95 * 86_400_000)) },
      "4002701",
      "Invalid Field Format {expiredDate}",
    ],
    ["an expiry in UTC", { expiredDate: "2030-01-01T00:00:00Z" }, "4002701", "Invalid Field Format {expiredDate}"],
    [
      "a recurring VA without customerNo",
      { virtualAccountTrxType: "o", totalAmount: undefined },
      "4002702",
      "Invalid Mandatory Field {customerNo}",
    ],
    ["a 2-digit customerNo", { customerNo: "12" }, "4002701", "Invalid Field Format {customerNo}"],
    [
      "type r on MANDIRI",
      { virtualAccountTrxType: "r", customerNo: "123", additionalInfo: { channel: "MANDIRI" } },
      "4002701",
      "Invalid Field Format {virtualAccountTrxType}",
    ],
    [
      "an unknown channel",
      { additionalInfo: { channel: "DANAMON" } },
      "4002701",
      "Invalid Field Format {additionalInfo.channel}",
    ],
    ["type x", { virtualAccountTrxType: "x" }, "4002701", "Invalid Field Format {virtualAccountTrxType}"],
  ])("refuses %s", async (_, overrides, responseCode, responseMessage) => {
    const answer = await send(createBody(overrides));
    expect(answer).toEqual({ status: 400, body: { responseCode, responseMessage } });
  });

  it("accepts a one-off VA on every channel and recurring ones only where the matrix says", async () => {
    for (const channel of ["BRI", "BNI", "MANDIRI", "INDOMARET", "ALFAMART", "BCA", "BNC"]) {
      expect((await send(createBody({ additionalInfo: { channel } }))).body.responseCode).toBe("2002700");
    }
    for (const channel of ["PERMATA", "BSI", "MUAMALAT", "BCA", "CIMB", "SINARMAS", "BNC"]) {
      const open = createBody({
        virtualAccountTrxType: "o",
        customerNo: "12345",
        totalAmount: undefined,
        additionalInfo: { channel },
      });
      expect((await send(open)).body.responseCode).toBe("2002700");
    }
  });

  it("refuses a duplicate trxId with 4092701", async () => {
    const body = createBody();
    expect((await send(body)).body.responseCode).toBe("2002700");
    expect(await send(body)).toEqual({ status: 409, body: { responseCode: "4092701", responseMessage: "Duplicate trxId" } });
  });

  it("refuses a reused X-EXTERNAL-ID with 4092700", async () => {
    const externalId = newExternalId();
    expect((await send(createBody(), { externalId })).body.responseCode).toBe("2002700");
    const reused = await send(createBody(), { externalId });
    expect(reused).toEqual({
      status: 409,
      body: { responseCode: "4092700", responseMessage: "Cannot use same X-EXTERNAL-ID in same day" },
    });
  });

  it("refuses a bad signature with 4012700 and an unknown partner with 4042716", async () => {
    const forged = await send(createBody(), { privateKey: generateRsaKeyPair().privateKey });
    expect(forged).toEqual({
      status: 401,
      body: { responseCode: "4012700", responseMessage: "Unauthorized. Invalid Signature" },
    });
    expect((await send(createBody(), { partnerId: "999999" })).body.responseCode).toBe("4042716");
  });

  it("uses each service's own code", async () => {
    const notFound = await send(
      { trxId: "INV-00000", additionalInfo: { contractId: "ci-none" } },
      { path: "/v1.0/transfer-va/inquiry-va" },
    );
    expect(notFound).toEqual({ status: 404, body: { responseCode: "4043001", responseMessage: "Transaction not found" } });
    const missing = await send({ trxId: "INV-00000" }, { path: "/v1.0/transfer-va/delete-va", method: "DELETE" });
    expect(missing.body).toEqual({ responseCode: "4003102", responseMessage: "Invalid Mandatory Field {virtualAccountNo}" });
  });
});

describe("delete-va", () => {
  it("cancels an unpaid VA; a second cancel finds nothing", async () => {
    const va = await createVa();
    await provider.cancelVirtualAccount(va, signal);
    expect(simulator.virtualAccount(contractIdOf(va))?.deleted).toBe(true);
    const again = await failure(provider.cancelVirtualAccount(va, signal));
    expect(again).toMatchObject({ kind: "NOT_FOUND", facts: { providerCode: "4043101" } });
  });

  it("refuses to cancel a paid VA", async () => {
    const va = await createVa();
    simulator.pay(contractIdOf(va));
    const error = await failure(provider.cancelVirtualAccount(va, signal));
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { provider: "winpay", providerCode: "4043114" } });
    expect(simulator.virtualAccount(contractIdOf(va))?.deleted).toBe(false);
    await simulator.idle();
  });
});

describe("payments and callbacks", () => {
  it("pays a VA, delivers a verified callback with fee and net, and is acknowledged byte for byte", async () => {
    const va = await createVa({ amount: { type: "FIXED", amount: 25_000n } });
    const { providerPaymentRef } = await provider.simulatePayment(va, 25_000n, signal);
    await simulator.idle();

    const [payment] = simulator.ledger.filter((entry) => entry.contractId === contractIdOf(va));
    expect(payment).toMatchObject({ amount: 25_000n, fee: 2_500n, nett: 22_500n });
    expect(payment?.callback).toMatchObject({ attempts: 1, acknowledged: true, lastStatus: 200 });
    expect(receiver.results).toHaveLength(1);
    const webhook = receiver.results[0];
    if (webhook?.kind !== "payment") throw new Error(`callback was rejected: ${JSON.stringify(webhook)}`);
    expect(webhook.notification).toMatchObject({
      providerAccount: PARTNER_ID,
      providerPaymentRef,
      vaNumber: va.vaNumber,
      amount: 25_000n,
      fee: 2_500n,
    });
    expect(webhook.notification.providerPaymentRef).toBe(`${contractIdOf(va)}:${payment?.referenceNo}`);
    expect(webhook.notification.providerVaId).toBe(contractIdOf(va));
    expect(webhook.belief).toEqual({ verified: true });
    expect(JSON.parse(webhook.notification.rawPayload).paidAmount).toEqual({ value: "25000", currency: "IDR" });
    expect(webhook.answer("RECORDED")).toEqual({ status: 200, contentType: "application/json", body: ACK });
    expect(webhook.answer("DUPLICATE").body).toBe(ACK);
    expect(webhook.answer("HELD")).toEqual({ status: 200, contentType: "application/json", body: ACK });
    expect(webhook.answer("REFUTED")).toMatchObject({ status: 404, body: expect.stringContaining("4042512") });
    expect(webhook.answer("ID_REUSED")).toMatchObject({ status: 409, body: expect.stringContaining("4092500") });
  });

  it("reports status and details after payment", async () => {
    const va = await createVa();
    expect(await provider.getPaymentStatus(va, signal)).toMatchObject({ state: "UNPAID", paidAmount: undefined });
    simulator.pay(contractIdOf(va));
    await simulator.idle();
    expect(await provider.getPaymentStatus(va, signal)).toMatchObject({ state: "PAID", paidAmount: 25_000n });
    expect(await provider.inquireVirtualAccount(va, signal)).toMatchObject({
      virtualAccountNo: `   ${va.vaNumber}`,
      channel: "CIMB",
      totalAmount: 25_000n,
    });
  });

  it("takes several payments of any amount on an open recurring VA", async () => {
    const va = await createVa({ bankCode: "BCA", usage: "MULTI", amount: { type: "OPEN" }, numberSuffix: "5550001" });
    const first = await provider.simulatePayment(va, 10_000n, signal);
    const second = await provider.simulatePayment(va, 1_000n, signal);
    await simulator.idle();
    expect(first.providerPaymentRef).not.toBe(second.providerPaymentRef);
    const notifications = receiver.results.flatMap((webhook) => (webhook.kind === "payment" ? [webhook.notification] : []));
    expect(notifications.map((notification) => [notification.amount, notification.fee])).toEqual([
      [10_000n, 2_500n],
      [1_000n, 1_000n],
    ]);
  });

  it("refuses to pay a one-off VA twice or with another amount", async () => {
    const va = await createVa();
    const wrong = await failure(provider.simulatePayment(va, 24_999n, signal));
    expect(wrong).toMatchObject({ kind: "INVALID_ARGUMENT", facts: { providerCode: "4042513" } });
    await provider.simulatePayment(va, 25_000n, signal);
    const twice = await failure(provider.simulatePayment(va, 25_000n, signal));
    expect(twice).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "4042514" } });
    await simulator.idle();
  });

  it("redelivers until acknowledged, each attempt freshly signed", async () => {
    receiver.failNext = 2;
    const va = await createVa();
    const payment = simulator.pay(contractIdOf(va));
    await simulator.idle();
    expect(payment.callback).toMatchObject({ attempts: 3, acknowledged: true, lastStatus: 200 });
    expect(receiver.results.filter((webhook) => webhook.kind === "payment")).toHaveLength(1);
  });

  it("gives up after three deliveries", async () => {
    receiver.failNext = 10;
    const va = await createVa();
    const payment = simulator.pay(contractIdOf(va));
    await simulator.idle();
    expect(payment.callback).toMatchObject({ attempts: 3, acknowledged: false, lastStatus: 500 });
  });
});

describe("receiveWebhook rejects what Winpay did not send", () => {
  const BODY =
    '{"partnerServiceId":"   22691","customerNo":"41693903614","virtualAccountNo":"   2269141693903614","virtualAccountName":"Bayar 2269141693903614","trxId":"INV-000000023212x2224","paymentRequestId":"88889123","paidAmount":{"value":"10000","currency":"IDR"},"trxDateTime":"2023-09-05T22:47:00+07:00","referenceNo":36238,"additionalInfo":{"channel":"CIMB","contractId":"ci71a51730-2373-455f-b538-3f9912fefb73","feeAmount":"1000.00","nettAmount":"9000.00"}}';

  function callback(options: { body?: string; signedBody?: string; signedPath?: string; at?: Date; externalId?: string } = {}) {
    const timestamp = formatSnapTimestamp(options.at ?? new Date());
    const body = options.body ?? BODY;
    const signature = signAsymmetric(
      { method: "POST", path: options.signedPath ?? CALLBACK_PATH, body: options.signedBody ?? body, timestamp },
      winpayKeys.privateKey,
    );
    return {
      method: "POST",
      path: CALLBACK_PATH,
      headers: {
        "content-type": "application/json",
        "x-timestamp": timestamp,
        "x-partner-id": PARTNER_ID,
        "x-signature": signature,
        "x-external-id": options.externalId ?? newExternalId(),
        "channel-id": "WINPAY",
      },
      rawBody: Buffer.from(body),
    } satisfies InboundHttpRequest;
  }

  async function rejection(request: InboundHttpRequest) {
    const result = await provider.receiveWebhook(request);
    if (result.kind !== "rejected") throw new Error("expected a rejection");
    return { status: result.answer.status, body: JSON.parse(result.answer.body) };
  }

  it("accepts Winpay's own sample shape: amount without decimals, numeric referenceNo, fee and net", async () => {
    const result = await provider.receiveWebhook(callback());
    expect(result).toMatchObject({
      kind: "payment",
      notification: {
        providerPaymentRef: "ci71a51730-2373-455f-b538-3f9912fefb73:36238",
        providerVaId: "ci71a51730-2373-455f-b538-3f9912fefb73",
        vaNumber: "2269141693903614",
        amount: 10_000n,
        fee: 1_000n,
        paidAt: new Date("2023-09-05T15:47:00Z"),
        rawPayload: BODY,
      },
    });
  });

  it("rejects a tampered body", async () => {
    const tampered = callback({ signedBody: BODY, body: BODY.replace('"10000"', '"99000"') });
    expect(await rejection(tampered)).toEqual({
      status: 401,
      body: { responseCode: "4012500", responseMessage: "Unauthorized. Invalid Signature" },
    });
  });

  it("rejects a signature over another path", async () => {
    const elsewhere = callback({ signedPath: "/v1.0/transfer-va/payment" });
    expect((await rejection(elsewhere)).body.responseCode).toBe("4012500");
  });

  it("takes a correctly signed but stale callback as a payment to confirm, not a refusal", async () => {
    const stale = await provider.receiveWebhook(callback({ at: new Date(Date.now() - 31 * 60_000) }));
    expect(stale).toMatchObject({ kind: "payment", belief: { verified: false, doubt: expect.stringContaining("X-TIMESTAMP") } });
  });

  it("still rejects a stale callback whose signature fails", async () => {
    const forged = callback({ at: new Date(Date.now() - 31 * 60_000), signedBody: BODY.replace("10000", "1") });
    expect((await rejection(forged)).body.responseCode).toBe("4012500");
  });

  it("hands the X-EXTERNAL-ID and body hash to the database guard: the same for a retry, not for another body", async () => {
    const externalId = newExternalId();
    const guardOf = async (request: InboundHttpRequest) => {
      const result = await provider.receiveWebhook(request);
      if (result.kind !== "payment") throw new Error("expected a payment");
      return result.requestIdGuard;
    };
    const first = await guardOf(callback({ externalId }));
    expect(first).toMatchObject({ scope: PARTNER_ID, requestId: externalId, bodyHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await guardOf(callback({ externalId }))).toEqual(first);
    const other = await guardOf(callback({ externalId, body: BODY.replace('"88889123"', '"88889124"') }));
    expect(other).toMatchObject({ requestId: externalId });
    expect(other?.bodyHash).not.toBe(first?.bodyHash);
  });

  it.each([
    [
      "no paidAmount",
      (body: string) => body.replace(/"paidAmount":\{[^}]*\},/, ""),
      "4002502",
      "Invalid Mandatory Field {paidAmount}",
    ],
    [
      "a fraction of a rupiah",
      (body: string) => body.replace('"10000"', '"10000.50"'),
      "4002501",
      "Invalid Field Format {paidAmount}",
    ],
    ["a numeric amount", (body: string) => body.replace('"10000"', "10000"), "4002501", "Invalid Field Format {paidAmount}"],
    [
      "no contractId",
      (body: string) => body.replace(/"contractId":"[^"]*",/, ""),
      "4002502",
      "Invalid Mandatory Field {additionalInfo.contractId}",
    ],
    [
      "a fee above the amount",
      (body: string) => body.replace('"1000.00"', '"20000.00"'),
      "4002501",
      "Invalid Field Format {additionalInfo.feeAmount}",
    ],
    ["a body that is not JSON", () => "paidAmount=10000", "4002500", "Bad Request"],
  ])("rejects %s", async (_, edit, responseCode, responseMessage) => {
    const body = edit(BODY);
    expect(await rejection(callback({ body }))).toEqual({ status: 400, body: { responseCode, responseMessage } });
  });
});

describe("Winpay's published callback (§5.6)", () => {
  it("is verified with the sandbox key over the public path configured for a rewriting proxy", async () => {
    const { path, timestamp, partnerId, signature, body } = WINPAY_CALLBACK_VECTOR;
    const sandbox = createWinpayProvider({
      baseUrl: "https://sandbox-snap.winpay.id/snap",
      partnerId,
      privateKey: merchantKeys.privateKey,
      winpayPublicKey: WINPAY_SANDBOX_PUBLIC_KEY,
      callbackPath: path,
      now: () => new Date(timestamp),
    });
    const result = await sandbox.receiveWebhook({
      method: "POST",
      path: "/webhooks/winpay/v1.0/transfer-va/payment",
      headers: {
        "x-timestamp": timestamp,
        "x-partner-id": partnerId,
        "x-signature": signature,
        "x-external-id": "000001",
        "channel-id": "WINPAY",
      },
      rawBody: Buffer.from(body),
    });
    expect(result).toMatchObject({
      kind: "payment",
      notification: {
        providerAccount: "170041",
        // This sample has no referenceNo, so its key falls back to the paymentRequestId.
        providerPaymentRef: "si1cd5671d-2ffe-4cca-aff0-b8ee9bc1c041:req-45539",
        providerVaId: "si1cd5671d-2ffe-4cca-aff0-b8ee9bc1c041",
        vaNumber: "904200000009",
        amount: 10_000n,
        fee: undefined,
      },
    });
  });
});

describe("the status API: reconciliation and confirmation", () => {
  const paymentsOf = () => receiver.results.flatMap((webhook) => (webhook.kind === "payment" ? [webhook] : []));

  /** A callback body for `va` as Winpay would send it, without sending it. */
  function claimFor(va: ProviderVaRef, overrides: { amount?: bigint; referenceNo?: number; trxId?: string } = {}) {
    const [contractId = "", trxId = ""] = va.providerReference.split(":");
    const amount = overrides.amount ?? 25_000n;
    const body = JSON.stringify({
      partnerServiceId: "   22691",
      customerNo: va.vaNumber.slice(5),
      virtualAccountNo: `   ${va.vaNumber}`,
      virtualAccountName: "Chus Pandi",
      ...(overrides.trxId === "" ? {} : { trxId: overrides.trxId ?? trxId }),
      paymentRequestId: "88889999",
      paidAmount: { value: String(amount), currency: "IDR" },
      trxDateTime: formatSnapTimestamp(new Date()),
      referenceNo: overrides.referenceNo ?? 99_999,
      additionalInfo: { channel: "CIMB", contractId, feeAmount: "0.00", nettAmount: `${amount}.00` },
    });
    const reading = readPaymentCallback(Buffer.from(body));
    if (!reading.ok) throw new Error("bad claim");
    return toPaymentNotification(reading.payment, PARTNER_ID, body, new Date());
  }

  it("fetchPayments names a payment exactly as its callback and simulate-payment do", async () => {
    const va = await createVa();
    expect(await provider.fetchPayments?.(va, signal)).toEqual([]);
    const { providerPaymentRef } = await provider.simulatePayment(va, 25_000n, signal);
    await simulator.idle();
    const [callback] = paymentsOf();
    const fetched = await provider.fetchPayments?.(va, signal);
    expect(fetched).toHaveLength(1);
    expect(fetched?.[0]).toMatchObject({
      providerAccount: PARTNER_ID,
      providerPaymentRef,
      providerVaId: contractIdOf(va),
      vaNumber: va.vaNumber,
      amount: 25_000n,
      paidAt: callback?.notification.paidAt,
    });
    expect(callback?.notification.providerPaymentRef).toBe(providerPaymentRef);
    expect(JSON.parse(fetched?.[0]?.rawPayload ?? "{}").virtualAccountData.paymentFlagStatus).toBe("00");
  });

  it("confirms a callback's claim with Winpay's own record, keeping the callback's reference", async () => {
    const va = await createVa();
    simulator.pay(contractIdOf(va));
    await simulator.idle();
    const claim = paymentsOf()[0]?.notification;
    if (!claim) throw new Error("no callback");
    const confirmation = await provider.confirmPayment?.({ ...claim, amount: 1n }, signal);
    expect(confirmation).toEqual({ paid: true, notification: { ...claim, amount: 25_000n, fee: undefined } });
  });

  it("refutes a claim about an unpaid VA, and one about a VA Winpay does not know", async () => {
    const va = await createVa();
    expect(await provider.confirmPayment?.(claimFor(va), signal)).toMatchObject({
      paid: false,
      reason: expect.stringContaining("unpaid"),
    });
    const unknown = { ...va, providerReference: `ci${randomUUID()}:INV-nobody` };
    expect(await provider.confirmPayment?.(claimFor(unknown), signal)).toMatchObject({ paid: false });
  });

  it("cannot tell when the VA's latest payment is another one, or when the callback names no trxId", async () => {
    const va = await createVa({ bankCode: "BCA", usage: "MULTI", amount: { type: "OPEN" }, numberSuffix: "5550002" });
    await provider.simulatePayment(va, 10_000n, signal);
    await provider.simulatePayment(va, 20_000n, signal);
    await simulator.idle();
    const first = paymentsOf()[0]?.notification;
    if (!first) throw new Error("no callback");
    expect(await failure(provider.confirmPayment?.(first, signal) ?? Promise.resolve())).toMatchObject({ kind: "UNAVAILABLE" });
    const nameless = claimFor(va, { trxId: "" });
    expect(await failure(provider.confirmPayment?.(nameless, signal) ?? Promise.resolve())).toMatchObject({
      kind: "UNAVAILABLE",
    });
  });
});

describe("misbehaviour switches", () => {
  const paymentsOf = () => receiver.results.flatMap((webhook) => (webhook.kind === "payment" ? [webhook] : []));

  it("holds callbacks and delivers them late with their first timestamp: a signed doubt, answered 2002500", async () => {
    const va = await createVa();
    simulatorClockOffsetMs = -31 * 60_000;
    simulator.misbehaviour.holdCallbacks(true);
    const payment = simulator.pay(contractIdOf(va));
    simulator.misbehaviour.holdCallbacks(false);
    await simulator.idle();
    expect(receiver.results).toHaveLength(0);
    simulatorClockOffsetMs = 0;
    expect(await simulator.misbehaviour.deliverHeldCallbacks()).toEqual([{ status: 200, body: ACK }]);
    expect(paymentsOf()).toHaveLength(1);
    expect(paymentsOf()[0]).toMatchObject({
      belief: { verified: false },
      notification: { providerPaymentRef: `${contractIdOf(va)}:${payment.referenceNo}` },
    });
  });

  it("loses a create answer: the VA exists at Winpay, and the retry meets 4092701 it cannot adopt", async () => {
    const request = createRequest();
    simulator.misbehaviour.loseNextCreateAnswer();
    expect(await failure(provider.createVirtualAccount(request, signal))).toMatchObject({ kind: "UNAVAILABLE" });
    const retry = await failure(provider.createVirtualAccount(request, signal));
    expect(retry).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { providerCode: "4092701" } });
    expect((await provider.createVirtualAccount(createRequest(), signal)).vaNumber).toMatch(/^22691/); // only once
  });

  it("pays a VA and delivers its callback before answering the create", async () => {
    simulator.misbehaviour.payBeforeNextCreateAnswer(25_000n);
    const va = await createVa();
    expect(paymentsOf()).toHaveLength(1);
    expect(paymentsOf()[0]?.notification).toMatchObject({
      providerVaId: contractIdOf(va),
      vaNumber: va.vaNumber,
      amount: 25_000n,
    });
  });

  it("reissues a number to a new contract", async () => {
    const old = await createVa();
    simulator.pay(contractIdOf(old));
    await simulator.idle();
    simulator.misbehaviour.reissueNumberOnNextCreate(old.vaNumber);
    const reissued = await createVa();
    expect(reissued.vaNumber).toBe(old.vaNumber);
    expect(reissued.providerVaId).not.toBe(old.providerVaId);
  });

  it("pays other than the bill when asked to", async () => {
    const va = await createVa();
    const payment = simulator.misbehaviour.payOtherThanBill(contractIdOf(va), 12_500n);
    await simulator.idle();
    expect(payment.amount).toBe(12_500n);
    expect(paymentsOf()[0]?.notification).toMatchObject({ amount: 12_500n, providerVaId: contractIdOf(va) });
  });
});
