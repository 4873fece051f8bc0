import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSnapClient } from "../../src/protocols/snap/client.js";
import { formatSnapTimestamp } from "../../src/protocols/snap/timestamp.js";
import { createWinpayProvider } from "../../src/providers/winpay/adapter.js";
import { type RunningSimulator, type SimulatorRequest, startSimulatorServer } from "../../src/sandbox/simulator-kit.js";
import type { WinpaySandboxKit } from "../../src/sandbox/winpay/kit.js";
import { startWinpaySimulator } from "../../src/sandbox/winpay/simulator.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { shapeProblems } from "../support/json-shape.js";
import { WINPAY_SANDBOX_PUBLIC_KEY } from "./snap/fixtures.js";
import { generateRsaKeyPair } from "./snap/keys.js";

/**
 * Winpay's published samples (test/fixtures/winpay, see SOURCES.md), kept byte for byte: callbacks
 * through the webhook route of a running gateway, answers through the adapter's readers, and the
 * simulator's output checked to have the samples' shape.
 */

const sample = (name: string) => readFileSync(new URL(`../fixtures/winpay/${name}`, import.meta.url), "utf8");
const json = (name: string) => JSON.parse(sample(name)) as Record<string, unknown>;

const SEED_CALLBACK = sample("seed003.payment-callback.json");
const SIGNED_PAGE_CALLBACK = sample("signature-callback-validation.callback.json");
const ACK = JSON.parse(sample("seed003.payment-callback.answer.json"));
const signal = new AbortController().signal;

describe("published callbacks through the webhook route of a running gateway", () => {
  let gateway: TestGateway;
  let kit: WinpaySandboxKit;

  beforeAll(async () => {
    gateway = await startTestGateway({ dialect: "sqlite" });
    kit = gateway.sandboxKits.get("winpay") as WinpaySandboxKit;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const post = async (body: string, at?: Date) => {
    const delivery = kit.signCallback(body, at);
    const response = await fetch(delivery.url, { method: "POST", headers: delivery.headers, body: delivery.body });
    return { status: response.status, body: await response.json() };
  };

  it.each([
    ["seed 003's callback (amount without decimals, numeric referenceNo)", SEED_CALLBACK],
    ["the signature page's callback (no referenceNo, fee or net)", SIGNED_PAGE_CALLBACK],
  ])("%s: kept for a VA we do not know yet and answered 2002500", async (_, body) => {
    expect(await post(body)).toEqual({ status: 200, body: ACK });
    // Winpay retries until it gets 2002500; the retry gets it again and keeps nothing twice.
    expect(await post(body)).toEqual({ status: 200, body: ACK });
  });

  it("a stale copy whose VA Winpay's own status API does not know is refused, 4042512", async () => {
    const answer = await post(SEED_CALLBACK, new Date(Date.now() - 31 * 60_000));
    expect(answer).toEqual({ status: 404, body: { responseCode: "4042512", responseMessage: "Invalid Bill/Virtual Account" } });
  });

  it("the signature page's callback with its published signature verifies against Winpay's sandbox key", async () => {
    const headers = json("signature-callback-validation.headers.json") as Record<string, string>;
    const sandbox = createWinpayProvider({
      baseUrl: "http://127.0.0.1:9/snap",
      partnerId: headers["X-Partner-Id"] ?? "",
      privateKey: generateRsaKeyPair().privateKey,
      winpayPublicKey: WINPAY_SANDBOX_PUBLIC_KEY,
      callbackPath: headers.path,
      now: () => new Date(headers["X-Timestamp"] ?? ""),
    });
    const result = await sandbox.receiveWebhook({
      method: "POST",
      path: "/webhooks/winpay/v1.0/transfer-va/payment",
      headers: {
        "x-timestamp": headers["X-Timestamp"],
        "x-partner-id": headers["X-Partner-Id"],
        "x-signature": headers["X-Signature"],
        "x-external-id": "1",
        "channel-id": "WINPAY",
      },
      rawBody: Buffer.from(SIGNED_PAGE_CALLBACK),
    });
    expect(result).toMatchObject({ kind: "payment", belief: { verified: true }, notification: { amount: 10_000n } });
  });
});

describe("published answers through the adapter's readers", () => {
  let server: RunningSimulator;
  const answers: Record<string, string> = {
    "/snap/v1.0/transfer-va/create-va": sample("seed003.create-va.response.json"),
    "/snap/v1.0/transfer-va/inquiry-va": sample("seed003.inquiry-va.response.json"),
    "/snap/v1.0/transfer-va/status": sample("seed003.status.response.json"),
    "/snap/v1.0/transfer-va/delete-va": sample("seed003.delete-va.response.json"),
  };
  const requests: SimulatorRequest[] = [];

  beforeAll(async () => {
    server = await startSimulatorServer((request) => {
      requests.push(request);
      return { status: 200, body: answers[request.path] ?? "{}" };
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const provider = () =>
    createWinpayProvider({
      baseUrl: `${server.url}/snap`,
      partnerId: "170041",
      privateKey: generateRsaKeyPair().privateKey,
      winpayPublicKey: WINPAY_SANDBOX_PUBLIC_KEY,
    });

  it("create-va: the number without its padding, contractId as the VA's identity", async () => {
    const created = await provider().createVirtualAccount(
      {
        externalId: "INV-000000023212x2221",
        bankCode: "CIMB",
        usage: "SINGLE",
        amount: { type: "FIXED", amount: 25_000n },
        expiresAt: new Date(Date.now() + 86_400_000),
        customer: { name: "Chus Pandi", email: "", phone: "" },
        numberSuffix: "",
        description: "",
      },
      signal,
    );
    expect(created).toEqual({
      providerAccount: "170041",
      providerReference: "cia80bff69-1073-4811-b1e1-13b738784d8b:INV-000000023212x2221",
      vaNumber: "2269141693898987",
      providerVaId: "cia80bff69-1073-4811-b1e1-13b738784d8b",
    });
  });

  const va = {
    providerAccount: "170041",
    providerReference: "ciaf1b982a-9d06-4e27-ba39-a6aefd9e813d:xxxxxxxxxxx13",
    vaNumber: "2269141708949044",
    bankCode: "CIMB",
  };

  it("inquiry-va and status: the paid amount, time and referenceNo", async () => {
    expect(await provider().inquireVirtualAccount(va, signal)).toEqual({
      virtualAccountNo: "2269186000003212",
      virtualAccountName: "Mas Nchus",
      channel: "CIMB",
      totalAmount: 25_000n,
      expiresAt: new Date("2023-09-01T19:30:14Z"),
    });
    expect(await provider().getPaymentStatus(va, signal)).toEqual({
      state: "PAID",
      paidAmount: 15_000n,
      paidAt: new Date("2024-02-26T19:04:51Z"),
      referenceNo: "50966",
    });
  });

  it("fetchPayments: the status sample's payment keyed <contractId>:<referenceNo>", async () => {
    const [payment, ...rest] = (await provider().fetchPayments?.(va, signal)) ?? [];
    expect(rest).toEqual([]);
    expect(payment).toMatchObject({
      providerPaymentRef: "ciaf1b982a-9d06-4e27-ba39-a6aefd9e813d:50966",
      providerVaId: "ciaf1b982a-9d06-4e27-ba39-a6aefd9e813d",
      vaNumber: "2269141708949044",
      amount: 15_000n,
      paidAt: new Date("2024-02-26T19:04:51Z"),
      rawPayload: JSON.stringify(JSON.parse(answers["/snap/v1.0/transfer-va/status"] ?? "")),
    });
  });

  it("delete-va: accepted", async () => {
    await expect(provider().cancelVirtualAccount(va, signal)).resolves.toBeUndefined();
    expect(requests.at(-1)).toMatchObject({ method: "DELETE", path: "/snap/v1.0/transfer-va/delete-va" });
  });

  it("our requests have the published requests' shape (status sends trxId both ways)", async () => {
    const sent = (path: string) => JSON.parse(requests.findLast((r) => r.path === path)?.rawBody.toString() ?? "{}");
    const withoutCustomerNo = ({ customerNo: _, ...rest }: Record<string, unknown>) => rest;
    expect(
      shapeProblems(sent("/snap/v1.0/transfer-va/create-va"), withoutCustomerNo(json("seed003.create-va.request.json"))),
    ).toEqual([]);
    expect(shapeProblems(sent("/snap/v1.0/transfer-va/inquiry-va"), json("seed003.inquiry-va.request.json"))).toEqual([]);
    expect(shapeProblems(sent("/snap/v1.0/transfer-va/delete-va"), json("seed003.delete-va.request.json"))).toEqual([]);
    const status = json("seed003.status.request.json");
    expect(shapeProblems(sent("/snap/v1.0/transfer-va/status"), { ...status, trxId: "x" })).toEqual([]);
  });
});

describe("the simulator speaks in the samples' shapes", () => {
  const merchant = generateRsaKeyPair();
  const winpay = generateRsaKeyPair();
  let receiver: RunningSimulator;
  const callbacks: string[] = [];
  let simulator: Awaited<ReturnType<typeof startWinpaySimulator>>;

  beforeAll(async () => {
    receiver = await startSimulatorServer((request) => {
      callbacks.push(request.rawBody.toString());
      return { status: 200, body: ACK };
    });
    simulator = await startWinpaySimulator({
      merchant: { partnerId: "170041", publicKey: merchant.publicKey, callbackUrl: `${receiver.url}/v1.0/transfer-va/payment` },
      winpayPrivateKey: winpay.privateKey,
      callbackRetryDelaysMs: [],
    });
  });
  afterAll(async () => {
    await simulator?.close();
    await receiver?.close();
  });

  it("create-va, inquiry-va, status (paid), delete-va and the payment callback", async () => {
    const client = createSnapClient({
      provider: "winpay",
      baseUrl: simulator.baseUrl,
      partnerId: "170041",
      channelId: "WEB",
      signing: { kind: "asymmetric", privateKey: merchant.privateKey },
      timeoutMs: 5_000,
    });
    const call = (path: string, body: unknown, method: "POST" | "DELETE" = "POST") =>
      client.call({ method, path: `/v1.0/transfer-va/${path}`, body, signal });
    const order = (trxId: string) => ({
      ...json("seed003.create-va.request.json"),
      trxId,
      expiredDate: formatSnapTimestamp(new Date(Date.now() + 86_400_000)),
    });

    const created = await call("create-va", order("INV-published-1"));
    expect(shapeProblems(created, json("seed003.create-va.response.json"))).toEqual([]);
    const data = created.virtualAccountData as { virtualAccountNo: string; additionalInfo: { contractId: string } };
    const { contractId } = data.additionalInfo;
    const inquiry = await call("inquiry-va", { trxId: "INV-published-1", additionalInfo: { contractId } });
    expect(shapeProblems(inquiry, json("seed003.inquiry-va.response.json"))).toEqual([]);

    simulator.pay(contractId);
    await simulator.idle();
    const statusRequest = {
      virtualAccountNo: data.virtualAccountNo,
      additionalInfo: { contractId, channel: "CIMB", trxId: "INV-published-1" },
    };
    expect(shapeProblems(await call("status", statusRequest), json("seed003.status.response.json"))).toEqual([]);

    const callback = JSON.parse(callbacks.at(-1) ?? "{}");
    expect(shapeProblems(callback, json("seed003.payment-callback.json"))).toEqual([]);
    // The signature page's older sample has a subset of these fields, of the same types (held the other
    // way round: the older sample against ours, which may have more).
    expect(shapeProblems(JSON.parse(SIGNED_PAGE_CALLBACK), callback, { allowMissing: true })).toEqual([]);

    const other = await call("create-va", order("INV-published-2"));
    const otherData = other.virtualAccountData as { virtualAccountNo: string; additionalInfo: { contractId: string } };
    const deletion = {
      virtualAccountNo: otherData.virtualAccountNo,
      trxId: "INV-published-2",
      additionalInfo: { contractId: otherData.additionalInfo.contractId, channel: "CIMB" },
    };
    expect(shapeProblems(await call("delete-va", deletion, "DELETE"), json("seed003.delete-va.response.json"))).toEqual([]);
  });
});
