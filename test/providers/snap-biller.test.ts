import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { EventType } from "../../src/gen/va/v1/va_pb.js";
import type { ProviderCreateRequest } from "../../src/providers/provider.js";
import { createSnapBillerProvider } from "../../src/providers/snap-biller/adapter.js";
import { customerNoFor, maxCustomerNoDigits } from "../../src/providers/snap-biller/numbering.js";
import { snapBillerSettings, snapBillerSettingsFromEnv } from "../../src/providers/snap-biller/settings.js";
import { readInquiryRequest, readPaymentRequest } from "../../src/providers/snap-biller/wire.js";
import { type BankSimulator, startBankSimulator } from "../../src/sandbox/snap-biller/bank.js";
import { vaClient } from "../support/clients.js";
import { createRequest, takeEvents } from "../support/fixtures.js";
import { startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";
import { generateRsaKeyPair } from "./snap/keys.js";

/** snap-biller pieces on their own, and the symmetric / proxied / registering set-up through a real gateway. */

const signal = new AbortController().signal;

function createVaRequest(overrides: Partial<ProviderCreateRequest> = {}): ProviderCreateRequest {
  return {
    externalId: "0123456789abcdef0123456789abcdef",
    bankCode: "BCA",
    usage: "SINGLE",
    amount: { type: "FIXED", amount: 25_000n },
    expiresAt: new Date(Date.now() + 3_600_000),
    customer: { name: "Budi Santoso", email: "", phone: "" },
    numberSuffix: "",
    description: "",
    ...overrides,
  };
}

describe("numbering", () => {
  it("derives the same customerNo from the same external id, of the configured length", () => {
    const a = customerNoFor("0123456789abcdef0123456789abcdef", 18);
    expect(a).toMatch(/^\d{18}$/);
    expect(customerNoFor("0123456789abcdef0123456789abcdef", 18)).toBe(a);
    expect(customerNoFor("0123456789abcdef0123456789abcdee", 18)).not.toBe(a);
    expect(maxCustomerNoDigits("88899")).toBe(18);
    expect(maxCustomerNoDigits("1")).toBe(20);
    expect(maxCustomerNoDigits("12345678")).toBe(15);
  });

  it("issues the number locally (no HTTP) and a retry gets the same one", async () => {
    const keys = generateRsaKeyPair();
    const provider = createSnapBillerProvider({
      partnerServiceId: "88899",
      customerNoDigits: 18,
      bankPartnerId: "BANK",
      bankPublicKey: keys.publicKey,
      tokenSecret: Buffer.alloc(32, 7),
    });
    const first = await provider.createVirtualAccount(createVaRequest(), signal);
    expect(first.vaNumber).toMatch(/^88899\d{18}$/);
    expect(first.vaNumber.length).toBeLessThanOrEqual(23);
    expect(first.providerAccount).toBe("88899");
    expect(await provider.createVirtualAccount(createVaRequest(), signal)).toEqual(first);
    const chosen = await provider.createVirtualAccount(createVaRequest({ numberSuffix: "081234567890" }), signal);
    expect(chosen.vaNumber).toBe("88899081234567890");
    await expect(provider.createVirtualAccount(createVaRequest({ numberSuffix: "1".repeat(19) }), signal)).rejects.toMatchObject({
      kind: "INVALID_ARGUMENT",
      facts: { field: "number_suffix" },
    });
    expect(provider.canInquireStatus).toBe(false);
    expect(await provider.inquirePaymentStatus({ virtualAccountNo: "   88899123", inquiryRequestId: "x" }, signal)).toMatchObject(
      {
        state: "UNKNOWN",
      },
    );
  });
});

describe("settings", () => {
  it("stays off without SNAP_BILLER_PARTNER_SERVICE_ID and reads the documented variables", () => {
    expect(snapBillerSettingsFromEnv({}, true)).toBeUndefined();
    const settings = snapBillerSettingsFromEnv(
      {
        SNAP_BILLER_PARTNER_SERVICE_ID: "22691",
        SNAP_BILLER_BANK_CODE: "BNI",
        SNAP_BILLER_BANK_PARTNER_ID: "BNI-01",
        SNAP_BILLER_BANK_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----\\nabc\\n-----END PUBLIC KEY-----",
        SNAP_BILLER_PUBLIC_PATH_PREFIX: "/snap",
        SNAP_BILLER_INQUIRY_TIMEOUT_MS: "120000",
        SNAP_BILLER_CUSTOMER_NO_DIGITS: "12",
      },
      false,
    );
    expect(settings).toMatchObject({
      partnerServiceId: "22691",
      bankCode: "BNI",
      bankPartnerId: "BNI-01",
      bankPublicKey: "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----",
      publicPathPrefix: "/snap",
      inquiryTimeoutMs: 120_000,
      customerNoDigits: 12,
      statusIntervalMs: 60_000,
    });
  });

  it("refuses what cannot work", () => {
    const base = { SNAP_BILLER_PARTNER_SERVICE_ID: "22691", SNAP_BILLER_BANK_CODE: "BNI", SNAP_BILLER_BANK_PARTNER_ID: "B" };
    expect(() => snapBillerSettingsFromEnv(base, false)).toThrow(/SNAP_BILLER_BANK_PUBLIC_KEY/);
    expect(() => snapBillerSettingsFromEnv({ SNAP_BILLER_PARTNER_SERVICE_ID: "22691" }, false)).toThrow(/SNAP_BILLER_BANK_CODE/);
    expect(() => snapBillerSettingsFromEnv({ ...base, SNAP_BILLER_PARTNER_SERVICE_ID: "123456789" }, true)).toThrow();
    expect(() => snapBillerSettingsFromEnv({ ...base, SNAP_BILLER_CUSTOMER_NO_DIGITS: "19" }, true)).toThrow(/6\.\.18/);
    expect(() => snapBillerSettingsFromEnv({ ...base, SNAP_BILLER_BANK_BASE_URL: "http://bank" }, true)).toThrow(/PRIVATE_KEY/);
    expect(() => snapBillerSettingsFromEnv({ ...base, SNAP_BILLER_PUBLIC_PATH_PREFIX: "snap/" }, true)).toThrow(/PREFIX/);
  });
});

describe("request readers", () => {
  const body = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value));
  const identity = { partnerServiceId: "   88899", customerNo: "123456", virtualAccountNo: "   88899123456" };

  it("answer 400xx00/01/02 with the field, as §2.8 spells them", () => {
    const notJson = readInquiryRequest(body("{"));
    expect(notJson.ok || JSON.parse(notJson.answer.body)).toEqual({ responseCode: "4002400", responseMessage: "Bad Request" });
    const missing = readPaymentRequest(body({ ...identity, paidAmount: { value: "1.00", currency: "IDR" } }));
    expect(missing.ok || JSON.parse(missing.answer.body)).toEqual({
      responseCode: "4002502",
      responseMessage: "Invalid Mandatory Field {paymentRequestId}",
    });
    const otherNumber = readInquiryRequest(body({ ...identity, virtualAccountNo: "   88899123457", inquiryRequestId: "a" }));
    expect(otherNumber.ok || JSON.parse(otherNumber.answer.body).responseCode).toBe("4002401");
    const fraction = readPaymentRequest(
      body({ ...identity, paymentRequestId: "p", paidAmount: { value: "1.50", currency: "IDR" } }),
    );
    expect(fraction.ok || JSON.parse(fraction.answer.body).responseMessage).toBe("Invalid Field Format {paidAmount}");
  });

  it("reads a virtualAccountNo sent with its padding collapsed or dropped: the same digits name the same VA", () => {
    for (const virtualAccountNo of [" 88899123456", "88899123456", "   88899123456"]) {
      const read = readInquiryRequest(body({ ...identity, virtualAccountNo, inquiryRequestId: "a" }));
      expect(read).toMatchObject({ ok: true, value: { virtualAccountNo } });
    }
    const unpaddedId = readInquiryRequest(
      body({ ...identity, partnerServiceId: "88899", virtualAccountNo: "88899123456", inquiryRequestId: "a" }),
    );
    expect(unpaddedId.ok).toBe(true);
  });

  it("reads the §2.7 samples (identity padded to 8, amounts exact)", () => {
    const inquiry = readInquiryRequest(
      body(
        '{"partnerServiceId":"  088899","customerNo":"12345678901234567890","virtualAccountNo":"  08889912345678901234567890","trxDateInit":"2020-12-31T23:59:59+07:00","channelCode":6011,"language":"ID","amount":{"value":"12345678.00","currency":"IDR"},"hashedSourceAccountNo":"abcdefghijklmnopqrstuvwxyz123456","sourceBankCode":"008","passApp":"abcdefghijklmnopqrstuvwxyz","inquiryRequestId":"abcdef-123456-abcdef","additionalInfo":{"deviceId":"12345679237","channel":"mobilephone"}}',
      ),
    );
    expect(inquiry).toMatchObject({ ok: true, value: { inquiryRequestId: "abcdef-123456-abcdef", amount: 12_345_678n } });
    const payment = readPaymentRequest(
      body(
        '{"partnerServiceId":"  088899","customerNo":"12345678901234567890","virtualAccountNo":"  08889912345678901234567890","virtualAccountName":"Jokul Doe","virtualAccountEmail":"jokul@email.com","virtualAccountPhone":"6281828384858","trxId":"abcdefgh1234","paymentRequestId":"abcdef-123456-abcdef","channelCode":6011,"hashedSourceAccountNo":"abcdefghijklmnopqrstuvwxyz123456","sourceBankCode":"008","paidAmount":{"value":"12345678.00","currency":"IDR"},"cumulativePaymentAmount":{"value":"12345678.00","currency":"IDR"},"paidBills":"95000","totalAmount":{"value":"12345678.00","currency":"IDR"},"trxDateTime":"2020-12-31T23:59:59+07:00","referenceNo":"123456789012345","journalNum":"123456","paymentType":"1","flagAdvise":"Y","subCompany":"12345","billDetails":[],"freeTexts":[],"additionalInfo":{}}',
      ),
    );
    expect(payment).toMatchObject({
      ok: true,
      value: { paymentRequestId: "abcdef-123456-abcdef", paidAmount: 12_345_678n, trxId: "abcdefgh1234", flagAdvise: "Y" },
    });
  });
});

describe("symmetric signing, a path-rewriting proxy and Create VA registration, through a real gateway", () => {
  let gateway: TestGateway;
  let bank: BankSimulator;
  let client: ReturnType<typeof vaClient>;

  beforeAll(async () => {
    gateway = await startTestGateway({
      dialect: "sqlite",
      config: {
        snapBiller: snapBillerSettings({
          partnerServiceId: "1234",
          bankCode: "BNI",
          bankPartnerId: "BNI-SNAP",
          bankClientSecret: "bank-client-secret-0123456789",
          publicPathPrefix: "/bank-gateway",
          bankCreateVaPath: "/v1.0/transfer-va/create-va",
          customerNoDigits: 12,
        }),
      },
    });
    client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const simulator = gateway.snapBiller?.kit.bankSimulator;
    if (!simulator) throw new Error("no bank simulator");
    bank = simulator;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("registers the VA at the bank, then the bank pays it with token + HMAC over the proxied path", async () => {
    const request = createRequest({ provider: "snap-biller", bankCode: "BNI" });
    const { virtualAccount } = await client.createVirtualAccount(request);
    const va = virtualAccount;
    expect(va?.vaNumber).toMatch(/^1234\d{12}$/);
    const registered = bank.registrations.get(va?.providerReference ?? "");
    expect(registered).toMatchObject({
      partnerServiceId: "    1234",
      virtualAccountNo: `    ${va?.vaNumber}`,
      virtualAccountName: "Budi Santoso",
      totalAmount: { value: "25000.00", currency: "IDR" },
      virtualAccountTrxType: "C",
    });
    // A create retried with the same key after the first registration: the bank's 409 is fine.
    const adapter = gateway.snapBiller?.kit.provider;
    const again = await adapter?.createVirtualAccount(
      { ...createVaRequest({ bankCode: "BNI" }), externalId: va?.providerReference ?? "" },
      signal,
    );
    expect(again?.vaNumber).toBe(va?.vaNumber);

    const transfer = await bank.transfer(va?.vaNumber ?? "");
    expect(transfer.state, transfer.inquiry.body).toBe("COMPLETED");
    expect(transfer.payments[0]?.sent.headers.Authorization).toMatch(/^Bearer /);
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va?.id ?? "" } }, 3);
    expect(events.map((e) => e.type)).toEqual([
      EventType.VIRTUAL_ACCOUNT_CREATED,
      EventType.VIRTUAL_ACCOUNT_INQUIRED,
      EventType.PAYMENT_RECEIVED,
    ]);
  });

  it("refuses a signature over the path as received (not as the bank addressed it), and a forged token", async () => {
    const { virtualAccount } = await client.createVirtualAccount(createRequest({ provider: "snap-biller", bankCode: "BNI" }));
    const body = bank.inquiryBody(virtualAccount?.vaNumber ?? "", "proxy-check");
    const unprefixed = await bank.send("inquiry", body, { signedPath: "/v1.0/transfer-va/inquiry" });
    expect([unprefixed.status, unprefixed.responseCode]).toEqual([401, "4012400"]);
    const forged = await bank.send("inquiry", body, { accessToken: "eyJjbGllbnRJZCI6IkJOSS1TTkFQIn0.AAAA" });
    expect([forged.status, forged.responseCode]).toEqual([401, "4012401"]);
    const fine = await bank.send("inquiry", body);
    expect(fine.responseCode).toBe("2002400");
  });

  it("answers the B2B token request itself per SNAP (2007300, 4017300 for a bad signature)", async () => {
    const response = await fetch(`${gateway.url}/v1.0/access-token/b2b`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-timestamp": "2020-01-01T00:00:00+07:00",
        "x-client-key": "BNI-SNAP",
        "x-signature": "AAAA",
      },
      body: '{"grantType":"client_credentials"}',
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { responseCode: string }).responseCode).toBe("4017300");
    expect(response.headers.get("x-timestamp")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/);
  });
});

describe("bank simulator on its own", () => {
  it("verifies the biller's signature on Inquiry Status and says 4042601 for a transfer it never saw", async () => {
    const biller = generateRsaKeyPair();
    const bank = await startBankSimulator({
      partnerId: "BANK",
      privateKey: generateRsaKeyPair().privateKey,
      billerPartnerServiceId: "88899",
      billerPartnerId: "US",
      billerPublicKey: biller.publicKey,
    });
    try {
      const provider = createSnapBillerProvider({
        partnerServiceId: "88899",
        customerNoDigits: 18,
        bankPartnerId: "BANK",
        bankPublicKey: generateRsaKeyPair().publicKey,
        tokenSecret: Buffer.alloc(32, 1),
        bank: { baseUrl: bank.url, partnerId: "US", privateKey: biller.privateKey, channelId: "VAGW" },
      });
      const query = { virtualAccountNo: "   88899123456789012345678", inquiryRequestId: "never" };
      expect(await provider.inquirePaymentStatus(query, signal)).toEqual({ state: "UNPAID" });
      expect(bank.statusQueries).toEqual([{ inquiryRequestId: "never", paymentFlagStatus: undefined, status: 404 }]);

      const impostor = createSnapBillerProvider({
        partnerServiceId: "88899",
        customerNoDigits: 18,
        bankPartnerId: "BANK",
        bankPublicKey: generateRsaKeyPair().publicKey,
        tokenSecret: Buffer.alloc(32, 1),
        bank: { baseUrl: bank.url, partnerId: "US", privateKey: generateRsaKeyPair().privateKey, channelId: "VAGW" },
      });
      const refused = await impostor.inquirePaymentStatus(query, signal);
      expect(refused).toMatchObject({ state: "UNKNOWN", reason: expect.stringContaining("4012600") });
      expect(bank.statusQueries).toHaveLength(1);
    } finally {
      await bank.close();
    }
  });

  it("an unreachable bank is UNKNOWN, never an exception", async () => {
    const provider = createSnapBillerProvider({
      partnerServiceId: "88899",
      customerNoDigits: 18,
      bankPartnerId: "BANK",
      bankPublicKey: generateRsaKeyPair().publicKey,
      tokenSecret: Buffer.alloc(32, 1),
      bank: {
        baseUrl: "http://127.0.0.1:9",
        partnerId: "US",
        privateKey: generateRsaKeyPair().privateKey,
        channelId: "VAGW",
        timeoutMs: 500,
      },
    });
    const status = await provider.inquirePaymentStatus({ virtualAccountNo: "   88899123", inquiryRequestId: "x" }, signal);
    expect(status.state).toBe("UNKNOWN");
    expect(status).not.toBeInstanceOf(DomainError);
  });
});
