import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PaymentOutcome } from "../../src/gen/va/v1/va_pb.js";
import { createAyoconnectProvider } from "../../src/providers/ayoconnect/adapter.js";
import { AYOCONNECT_BANKS } from "../../src/providers/ayoconnect/capabilities.js";
import { encodeVaKey, flowIds } from "../../src/providers/ayoconnect/transformers.js";
import type { PaymentNotification, ProviderVaRef } from "../../src/providers/provider.js";
import type { AyoconnectKit } from "../../src/sandbox/ayoconnect/kit.js";
import { startAyoconnectSimulator } from "../../src/sandbox/ayoconnect/simulator.js";
import { type SimulatorRequest, startSimulatorServer } from "../../src/sandbox/simulator-kit.js";
import { vaClient } from "../support/clients.js";
import { createRequest } from "../support/fixtures.js";
import { startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";
import { shapeProblems } from "../support/json-shape.js";
import { signal } from "../support/provider-harness.js";

/**
 * Ayoconnect's published samples (test/fixtures/ayoconnect, sources in SOURCES.md), replayed byte for
 * byte: the callback through the real webhook route of a running gateway, the API answers through the
 * adapter's parsing, and every sample against the shape of what our simulator produces.
 */
const sample = (name: string) => readFileSync(new URL(`../fixtures/ayoconnect/${name}`, import.meta.url), "utf8");
const CALLBACK = sample("callback-payment.json");
const MINUTE = 60_000;

describe("the published callback through the gateway's webhook route", () => {
  let gateway: TestGateway;
  let kit: AyoconnectKit;
  let webhook: string;

  beforeAll(async () => {
    gateway = await startTestGateway({ dialect: "sqlite", controlledClock: true, config: { sweepIntervalMs: 3_600_000 } });
    kit = gateway.sandboxKits.get("ayoconnect") as AyoconnectKit;
    webhook = `${gateway.url}/webhooks/ayoconnect`;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const post = async (body: string) => {
    const response = await fetch(webhook, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body,
    });
    return { status: response.status, body: await response.text() };
  };

  /** Held payments that are due again: how many, after the gateway's clock moved past their retry. */
  const heldNow = async () => {
    gateway.advanceClock(60 * MINUTE);
    return gateway.intake.reviewHeld();
  };

  it("is refused (400) when Ayoconnect's status query knows no such VA, and nothing is kept", async () => {
    const answer = await post(CALLBACK);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ responseCode: 400 });
    expect((await heldNow()).reviewed).toBe(0);
  });

  it("is answered 201 and held for operators when Ayoconnect shows the VA paid but no VA of ours matches", async () => {
    const published = JSON.parse(CALLBACK).virtualAccountData;
    kit.simulator.addVirtualAccount({
      virtualAccountId: published.virtualAccountId,
      customerId: published.customerId,
      correlationId: published.correlationId,
      virtualAccountNumber: published.virtualAccountNumber,
      bankCode: "014",
      totalAmount: 25_000n,
      paid: 12_500n,
    });
    const answer = await post(CALLBACK);
    expect(answer).toEqual({ status: 201, body: JSON.stringify({ responseCode: 201, responseMessage: "created" }) });
    expect(await post(CALLBACK)).toEqual(answer);
    expect(await heldNow()).toMatchObject({ reviewed: 1, recorded: 0, refuted: 0 });
  });

  it("the published unequal amount, sent by the simulator for a VA of ours, is recorded UNDERPAID and answered 201", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const { virtualAccount: va } = await client.createVirtualAccount(
      createRequest({ provider: "ayoconnect", bankCode: "BRI", description: "API Product" }),
    );
    const ref: ProviderVaRef = {
      providerAccount: "",
      providerReference: va?.providerReference ?? "",
      vaNumber: va?.vaNumber ?? "",
      bankCode: "BRI",
    };
    const paid = await kit.misbehaviour.payOtherThanBill(ref, 25_000n);
    await kit.idle();
    expect(kit.simulator.deliveries.at(-1)).toMatchObject({ acknowledged: true, lastStatus: 201 });
    const { payments } = await client.getPaymentStatus({ virtualAccountId: va?.id ?? "" });
    expect(payments.map((p) => [p.providerPaymentReference, p.amount, p.outcome])).toEqual([
      [paid.providerPaymentRef, 12_500n, PaymentOutcome.UNDERPAID],
    ]);
  });
});

describe("published API answers through the adapter's parsing", () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  /** A tiny Ayoconnect that answers the VA route with one published sample, verbatim. */
  async function answering(status: number, body: string) {
    const seen: SimulatorRequest[] = [];
    const server = await startSimulatorServer((request) => {
      seen.push(request);
      if (request.path.endsWith("/accesstoken")) {
        return { status: 200, body: { accessToken: "t0k3n", expiresIn: "3599", tokenType: "BearerToken" } };
      }
      return { status, body };
    });
    closers.push(() => server.close());
    const provider = createAyoconnectProvider({
      baseUrl: server.url,
      clientId: "client",
      clientSecret: "secret",
      merchantCode: "MRC042",
    });
    return { provider, seen };
  }

  const bni = AYOCONNECT_BANKS.find((b) => b.ayoconnectCode === "009");
  const { correlationId } = flowIds("published", bni ?? (AYOCONNECT_BANKS[0] as (typeof AYOCONNECT_BANKS)[0]), "SINGLE");
  const publishedVa: ProviderVaRef = {
    providerAccount: "MRC042",
    providerReference: encodeVaKey({
      virtualAccountId: "230411110614699649123IRGG6Q",
      customerId: "AYOAPP-559PAC23",
      correlationId,
    }),
    vaNumber: "1234500012345678",
    bankCode: "BNI",
  };

  it("create: the 201 sample gives the number and Ayoconnect's virtualAccountId", async () => {
    const { provider } = await answering(201, sample("create-response.json"));
    const issued = await provider.createVirtualAccount(
      {
        externalId: "published",
        bankCode: "BNI",
        usage: "SINGLE",
        amount: { type: "FIXED", amount: 2_650_000n },
        expiresAt: new Date(Date.now() + 360 * MINUTE),
        customer: { name: "Pembayaran Tagihan X", email: "", phone: "62172439389" },
        numberSuffix: "",
        description: "Motorcycle payment.",
      },
      signal,
    );
    expect(issued).toMatchObject({
      providerAccount: "MRC042",
      vaNumber: "1234500012345678",
      providerVaId: "230411110614699649123IRGG6Q",
    });
    expect(issued.providerReference.split(":").slice(0, 2)).toEqual(["230411110614699649123IRGG6Q", "AYOAPP-559PAC23"]);
  });

  it("status: the PAID sample reads with its bill, billAmount and fee, exactly", async () => {
    const { provider, seen } = await answering(200, sample("status-response.json"));
    expect(await provider.fetchVirtualAccount(publishedVa, signal)).toMatchObject({
      vaNumber: "1234500012345678",
      providerStatus: "PAID",
      status: "PAID",
      totalAmount: 3_250_000n,
      billAmount: 3_250_000n,
      adminFee: 4_000n,
      expiresAt: new Date("2023-04-11T13:17:14+07:00"),
    });
    expect(Object.fromEntries(seen.at(-1)?.query ?? [])).toMatchObject({
      virtualAccountId: "230411110614699649123IRGG6Q",
      customerId: "AYOAPP-559PAC23",
      bankCode: "009",
    });
  });

  it("status: the PAID sample confirms a claimed payment and yields it to the reconciler", async () => {
    const { provider } = await answering(200, sample("status-response.json"));
    const claim: PaymentNotification = {
      providerAccount: "MRC042",
      providerPaymentRef: "230411110614699649123IRGG6Q:single",
      vaNumber: "1234500012345678",
      amount: 3_250_000n,
      fee: undefined,
      paidAt: new Date(),
      rawPayload: JSON.stringify({
        virtualAccountData: {
          virtualAccountId: "230411110614699649123IRGG6Q",
          customerId: "AYOAPP-559PAC23",
          correlationId,
          virtualAccountNumber: "1234500012345678",
          paymentDetails: { trxRefID: "1", amount: "3250000.00" },
        },
      }),
      providerVaId: "230411110614699649123IRGG6Q",
    };
    expect(await provider.confirmPayment(claim, signal)).toMatchObject({
      paid: true,
      notification: { amount: 3_250_000n, fee: 4_000n },
    });
    const [polled] = await provider.fetchPayments(publishedVa, signal);
    expect(polled).toMatchObject({ providerPaymentRef: claim.providerPaymentRef, amount: 3_250_000n, fee: 4_000n });
  });

  it("update: the sample (HTTP 200 with responseCode 201) is a success", async () => {
    const { provider } = await answering(200, sample("update-response.json"));
    await expect(
      provider.updateVirtualAccount(publishedVa, { amount: { type: "FIXED", amount: 3_200_000n } }, signal),
    ).resolves.toBeUndefined();
  });
});

describe("the simulator speaks the published shapes", () => {
  it("callback, create, status and update answers have the samples' keys and value types", async () => {
    const callbacks: string[] = [];
    const receiver = await startSimulatorServer((request) => {
      callbacks.push(request.rawBody.toString("utf8"));
      return { status: 201, body: {} };
    });
    const simulator = await startAyoconnectSimulator({
      clientId: "c",
      clientSecret: "s",
      merchantCode: "MRC042",
      callbackUrl: receiver.url,
    });
    try {
      const token = await fetch(`${simulator.url}/v1/oauth/client_credential/accesstoken?grant_type=client_credentials`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "client_id=c&client_secret=s",
      }).then((r) => r.json() as Promise<{ accessToken: string }>);
      const headers = {
        authorization: `Bearer ${token.accessToken}`,
        "content-type": "application/json",
        "a-correlation-id": "qole43pi7iuylp083ddr5c6xgsuwog64",
        "a-merchant-code": "MRC042",
      };
      const call = async (method: string, query: string, body?: unknown) => {
        const response = await fetch(`${simulator.url}/api/v1/virtualAccount${query}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return response.json() as Promise<{ virtualAccountData: Record<string, string> }>;
      };
      // The published request asks BNI for 8 custom digits while its own field text says exactly 12 for
      // BNI; we send it as published with 12.
      const request = { ...JSON.parse(sample("create-request.json")), virtualAccountNumber: "123456789012" };
      const created = await call("POST", "", request);
      expect(shapeProblems(created, JSON.parse(sample("create-response.json")))).toEqual([]);
      const data = created.virtualAccountData;
      const key = `virtualAccountId=${data.virtualAccountId}&bankCode=009&customerId=${data.customerId}`;

      simulator.simulatePayment(data.virtualAccountNumber ?? "", 2_650_000n);
      await simulator.idle();
      expect(shapeProblems(JSON.parse(callbacks[0] ?? "{}"), JSON.parse(CALLBACK))).toEqual([]);

      const status = await call("GET", `?${key}&transactionId=${"a".repeat(32)}`);
      expect(shapeProblems(status, JSON.parse(sample("status-response.json")))).toEqual([]);

      const other = await call("POST", "", { ...request, transactionId: "b".repeat(32), virtualAccountNumber: undefined });
      const update = JSON.parse(sample("update-request.json"));
      const updated = await call("PATCH", "", {
        ...update,
        virtualAccountId: other.virtualAccountData.virtualAccountId,
        customerId: other.virtualAccountData.customerId,
        transactionId: "c".repeat(32),
      });
      expect(shapeProblems(updated, JSON.parse(sample("update-response.json")))).toEqual([]);
    } finally {
      await simulator.close();
      await receiver.close();
    }
  });

  it("our adapter's create body has the sample request's shape", async () => {
    const simulator = await startAyoconnectSimulator({ clientId: "c", clientSecret: "s", merchantCode: "MRC042" });
    try {
      const provider = createAyoconnectProvider({
        baseUrl: simulator.url,
        clientId: "c",
        clientSecret: "s",
        merchantCode: "MRC042",
      });
      await provider.createVirtualAccount(
        {
          externalId: "shape",
          bankCode: "BNI",
          usage: "SINGLE",
          amount: { type: "FIXED", amount: 2_650_000n },
          expiresAt: new Date(Date.now() + 360 * MINUTE),
          customer: { name: "Pembayaran Tagihan X", email: "", phone: "+62172439389" },
          numberSuffix: "12345678",
          description: "Motorcycle payment.",
        },
        signal,
      );
      const sent = simulator.requests.find((r) => r.method === "POST" && r.path === "/api/v1/virtualAccount")?.body;
      expect(shapeProblems(JSON.parse(sent ?? "{}"), JSON.parse(sample("create-request.json")))).toEqual([]);
    } finally {
      await simulator.close();
    }
  });
});
