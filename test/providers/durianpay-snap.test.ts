import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { createDurianpaySnapProvider } from "../../src/providers/durianpay-snap/adapter.js";
import { readDurianpaySnapSettings } from "../../src/providers/durianpay-snap/settings.js";
import { tokenExpiry } from "../../src/providers/durianpay-snap/token.js";
import { toCreateVaRequest } from "../../src/providers/durianpay-snap/transformers.js";
import type { ProviderVaRef, ProviderVirtualAccount, WebhookResult } from "../../src/providers/provider.js";
import { SettingsFields } from "../../src/providers/shared/settings-fields.js";
import { type DurianpaySnapSandboxKit, startDurianpaySnapKit } from "../../src/sandbox/durianpay-snap/kit.js";
import { startDurianpaySnapSimulator } from "../../src/sandbox/durianpay-snap/simulator.js";
import { type CallbackDelivery, type RunningSimulator, startSimulatorServer } from "../../src/sandbox/simulator-kit.js";

/**
 * The durianpay-snap adapter against its simulator, below the gateway: the signed notification
 * (exact bytes, stale → doubt → status API), the answers Durianpay's retries see, update, cancel
 * either way, and what the create body looks like.
 */
const signal = new AbortController().signal;
const MINUTE = 60_000;
let merchant: RunningSimulator;
let kit: DurianpaySnapSandboxKit;
const notifications: CallbackDelivery[] = [];

beforeAll(async () => {
  merchant = await startSimulatorServer((request) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") headers[name] = value;
    notifications.push({ url: request.path, headers, body: request.rawBody.toString() });
    return { status: 200, body: { responseCode: "2002500", responseMessage: "Successful" } };
  });
  kit = await startDurianpaySnapKit({
    webhookUrl: `${merchant.url}/webhooks/durianpay-snap`,
    now: () => new Date(),
    retryDelaysMs: [],
  });
});
afterAll(async () => {
  await kit?.close();
  await merchant?.close();
});

const draft = (overrides: Record<string, unknown> = {}) =>
  ({
    externalId: `trx${Date.now()}${Math.floor(Math.random() * 1e6)}`,
    bankCode: "PERMATA",
    usage: "SINGLE",
    amount: { type: "FIXED", amount: 25_000n },
    expiresAt: new Date(Date.now() + 24 * 3_600_000),
    customer: { name: "Budi Santoso" },
    numberSuffix: "",
    description: "",
    ...overrides,
  }) as Parameters<typeof kit.provider.createVirtualAccount>[0];

const refOf = (va: ProviderVirtualAccount): ProviderVaRef => ({ ...va, bankCode: "PERMATA" });

/** Creates and pays a VA; resolves the notification Durianpay delivered for it. */
async function paidVa() {
  const va = await kit.provider.createVirtualAccount(draft(), signal);
  const { providerPaymentRef } = (await kit.provider.simulatePayment?.(refOf(va), 25_000n, signal)) ?? { providerPaymentRef: "" };
  await kit.idle();
  const delivery = notifications.find((n) => n.body.includes(providerPaymentRef)) as CallbackDelivery;
  return { va, providerPaymentRef, delivery };
}

const receive = (delivery: CallbackDelivery, body = delivery.body, headers = delivery.headers) =>
  kit.provider.receiveWebhook({ method: "POST", path: delivery.url, headers, rawBody: Buffer.from(body) });

const payment = (result: WebhookResult) => {
  if (result.kind !== "payment") throw new Error(`not a payment: ${result.reason}`);
  return result;
};

describe("create-va body", () => {
  it("closed: C with totalAmount; open: O without; the bank in additionalInfo; expiry in Jakarta time", () => {
    const closed = toCreateVaRequest(draft({ externalId: "abc", expiresAt: new Date("2026-01-01T00:00:00Z") }));
    expect(closed).toEqual({
      virtualAccountName: "Budi Santoso",
      trxId: "abc",
      virtualAccountTrxType: "C",
      expiredDate: "2026-01-01T07:00:00+07:00",
      totalAmount: { value: "25000.00", currency: "IDR" },
      additionalInfo: { bankCode: "PERMATA" },
    });
    const open = toCreateVaRequest(draft({ externalId: "abc", amount: { type: "OPEN" }, numberSuffix: "123" }));
    expect(open.virtualAccountTrxType).toBe("O");
    expect(open.totalAmount).toBeUndefined();
    expect(open.customerNo).toBe("123");
  });

  it("refuses up front what it cannot issue, naming our field", () => {
    const field = (overrides: Record<string, unknown>) => {
      try {
        toCreateVaRequest(draft(overrides));
      } catch (error) {
        return (error as DomainError).facts.field;
      }
      return undefined;
    };
    expect(field({ bankCode: "NOSUCH" })).toBe("bank_code");
    expect(field({ usage: "MULTI" })).toBe("amount");
    expect(field({ amount: { type: "RANGE", min: 1n, max: 2n } })).toBe("amount");
    expect(field({ numberSuffix: "1234567" })).toBe("number_suffix"); // PERMATA: 6
  });
});

describe("payment notification", () => {
  it("verified over the exact bytes: the same JSON re-indented is refused 401 4012500 and believes nothing", async () => {
    const { delivery, providerPaymentRef } = await paidVa();
    const fresh = payment(await receive(delivery));
    expect(fresh.belief).toEqual({ verified: true });
    expect(fresh.notification.providerPaymentRef).toBe(providerPaymentRef);
    expect(fresh.notification.amount).toBe(25_000n);

    const reserialised = JSON.stringify(JSON.parse(delivery.body), null, 2);
    const refused = await receive(delivery, reserialised);
    expect(refused.kind).toBe("rejected");
    if (refused.kind === "rejected") {
      expect(refused.answer.status).toBe(401);
      expect(JSON.parse(refused.answer.body)).toEqual({
        responseCode: "4012500",
        responseMessage: "Unauthorized. Invalid Signature",
      });
    }
  });

  it("stale (signed 31 min ago) is a doubt, which the status API confirms with Durianpay's amount", async () => {
    const { delivery } = await paidVa();
    const late = kit.signNotification(delivery.body, new Date(Date.now() - 31 * MINUTE));
    const doubtful = payment(await receive({ ...late, url: delivery.url }));
    expect(doubtful.belief.verified).toBe(false);
    const confirmation = await kit.provider.confirmPayment?.(doubtful.notification, signal);
    expect(confirmation).toMatchObject({ paid: true, notification: { amount: 25_000n } });
  });

  it("a correctly signed claim of a payment Durianpay never made is refuted by the status API", async () => {
    const { delivery } = await paidVa();
    const body = delivery.body.replace(/"paymentRequestId":"[^"]+"/, '"paymentRequestId":"pay_never"');
    const claim = payment(await receive({ ...kit.signNotification(body), url: delivery.url }));
    expect(await kit.provider.confirmPayment?.(claim.notification, signal)).toMatchObject({ paid: false });
  });

  it("09 rejected: acknowledged (200 2002500) so Durianpay stops, and nothing is reported", async () => {
    const { delivery } = await paidVa();
    const body = delivery.body.replace(
      '"latestTransactionStatus":"00","transactionStatusDesc":"completed"',
      '"latestTransactionStatus":"09","transactionStatusDesc":"rejected"',
    );
    const result = await receive({ ...kit.signNotification(body), url: delivery.url });
    expect(result.kind).toBe("rejected");
    if (result.kind === "rejected")
      expect(result.answer).toMatchObject({ status: 200, body: '{"responseCode":"2002500","responseMessage":"Successful"}' });
  });

  it("answers in SNAP form: only 200 stops Durianpay's retries (2, 5, 10, 90, 210 min)", async () => {
    const { delivery } = await paidVa();
    const { answer } = payment(await receive(delivery));
    const ok = { status: 200, body: '{"responseCode":"2002500","responseMessage":"Successful"}' };
    expect(answer("RECORDED")).toMatchObject(ok);
    expect(answer("DUPLICATE")).toMatchObject(ok);
    expect(answer("HELD")).toMatchObject(ok);
    expect(answer("REFUTED")).toMatchObject({
      status: 404,
      body: '{"responseCode":"4042512","responseMessage":"Invalid Bill/Virtual Account"}',
    });
    expect(answer("ID_REUSED").status).toBe(409);
    expect(JSON.parse(answer("ID_REUSED").body).responseCode).toBe("4092500");
  });

  it("a missing field is named (400 2502) and a foreign X-PARTNER-ID is 404 2516", async () => {
    const { delivery } = await paidVa();
    const body = delivery.body.replace(/"paymentRequestId":"[^"]+",/, "");
    const missing = await receive({ ...kit.signNotification(body), url: delivery.url });
    expect(missing.kind === "rejected" && JSON.parse(missing.answer.body)).toEqual({
      responseCode: "4002502",
      responseMessage: "Invalid Mandatory Field {paymentRequestId}",
    });
    const foreign = await receive(delivery, delivery.body, { ...delivery.headers, "x-partner-id": "someone-else" });
    expect(foreign.kind === "rejected" && foreign.answer.status).toBe(404);
  });
});

describe("update and cancel", () => {
  it("update-va changes a closed VA's amount and expiry at Durianpay", async () => {
    const va = await kit.provider.createVirtualAccount(draft(), signal);
    const expiresAt = new Date(Date.now() + 48 * 3_600_000);
    await kit.provider.updateVirtualAccount?.(refOf(va), { amount: { type: "FIXED", amount: 30_000n }, expiresAt }, signal);
    await kit.provider.simulatePayment?.(refOf(va), 30_000n, signal);
    const [found] = await (kit.provider.fetchPayments?.(refOf(va), signal) ?? []);
    expect(found?.amount).toBe(30_000n);
  });

  it("cancel expires the VA through update-va; a paid VA cannot be cancelled (FAILED_PRECONDITION)", async () => {
    const va = await kit.provider.createVirtualAccount(draft(), signal);
    await kit.provider.cancelVirtualAccount(refOf(va), signal);
    await expect(kit.provider.simulatePayment?.(refOf(va), 25_000n, signal)).rejects.toBeInstanceOf(DomainError);
    const { va: paid } = await paidVa();
    await expect(kit.provider.cancelVirtualAccount(refOf(paid), signal)).rejects.toMatchObject({ kind: "FAILED_PRECONDITION" });
  });

  it("cancelBy delete-va deletes it instead", async () => {
    const merchantKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const simulator = await startDurianpaySnapSimulator({
      merchant: { clientKey: "k", clientSecret: "s", publicKey: merchantKeys.publicKey, notificationUrl: `${merchant.url}/n` },
      durianpayPrivateKey: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey,
      callbackRetryDelaysMs: [],
    });
    try {
      const provider = createDurianpaySnapProvider({
        baseUrl: simulator.baseUrl,
        clientKey: "k",
        clientSecret: "s",
        privateKey: merchantKeys.privateKey,
        durianpayPublicKey: merchantKeys.publicKey,
        cancelBy: "delete-va",
      });
      const request = draft();
      const va = await provider.createVirtualAccount(request, signal);
      await provider.cancelVirtualAccount(refOf(va), signal);
      expect(simulator.virtualAccount(va.vaNumber, request.externalId)?.deleted).toBe(true);
    } finally {
      await simulator.close();
    }
  });

  it("settings: cancelBy and any path can be set (only token and notification paths are published)", () => {
    const fields = {
      baseUrl: "https://api-sandbox.durianpay.id",
      clientKey: "k",
      clientSecret: "s",
      privateKey: "p",
      durianpayPublicKey: "q",
      cancelBy: "delete-va",
      statusPath: "/v1.0/transfer-va/inquiry-va",
    };
    const settings = readDurianpaySnapSettings(new SettingsFields("durianpay-snap", fields));
    expect(settings.cancelBy).toBe("delete-va");
    expect(settings.paths).toEqual({ status: "/v1.0/transfer-va/inquiry-va" });
    expect(() => readDurianpaySnapSettings(new SettingsFields("durianpay-snap", { ...fields, cancelBy: "patch" }))).toThrow(
      /cancelBy/,
    );
    expect(() => readDurianpaySnapSettings(new SettingsFields("durianpay-snap", { ...fields, statusPath: "x" }))).toThrow(
      /statusPath/,
    );
  });
});

describe("token lifetime", () => {
  it("reads seconds, the published instant, and falls back to 900 s", () => {
    expect(tokenExpiry("900", 0)).toBe(900_000);
    expect(tokenExpiry("2024-05-13 08:47:36.452492159 +0000 UTC", 0)).toBe(Date.parse("2024-05-13T08:47:36.452Z"));
    expect(tokenExpiry("2024-05-13 08:47:36 +0000 UTC", 0)).toBe(Date.parse("2024-05-13T08:47:36Z"));
    expect(tokenExpiry("soon", 1_000)).toBe(901_000);
  });
});
