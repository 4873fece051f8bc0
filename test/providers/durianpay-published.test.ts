import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import type { VirtualAccount } from "../../src/gen/va/v1/va_pb.js";
import { createDurianpayProvider } from "../../src/providers/durianpay/adapter.js";
import { readFetchPage } from "../../src/providers/durianpay/transformers.js";
import type { ProviderCreateRequest, ProviderVaRef } from "../../src/providers/provider.js";
import { type DurianpaySimulator, startDurianpaySimulator } from "../../src/sandbox/durianpay/simulator.js";
import type { SandboxKit } from "../../src/sandbox/kit.js";
import { type RunningSimulator, type SimulatorResponse, startSimulatorServer } from "../../src/sandbox/simulator-kit.js";
import { vaClient } from "../support/clients.js";
import { createRequest } from "../support/fixtures.js";
import { startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";
import { shapeProblems } from "../support/json-shape.js";
import { signal } from "../support/provider-harness.js";

/**
 * Durianpay's published samples (test/fixtures/durianpay, sources in SOURCES.md): inbound ones through
 * the webhook route of a real gateway, outbound ones through the adapter's parsing from a local server
 * that answers them byte for byte, and the simulator's output held against their shapes.
 */

const FIXTURES = new URL("../fixtures/durianpay/", import.meta.url);
const sample = (name: string) => readFileSync(new URL(name, FIXTURES), "utf8");
const json = (name: string) => JSON.parse(sample(name)) as Record<string, unknown>;

const SERVER_KEY = "dp_test_publishedSamples01";
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A local Durianpay that answers each route with a published body, verbatim. */
async function publishedDurianpay(routes: (method: string, path: string) => SimulatorResponse | undefined) {
  const server: RunningSimulator = await startSimulatorServer(
    (request) => routes(request.method, request.path) ?? { status: 404, body: "{}" },
  );
  closers.push(() => server.close());
  return createDurianpayProvider({ baseUrl: server.url, serverKey: SERVER_KEY, providerAccount: "published" });
}

const EMPTY_LIST: SimulatorResponse = { status: 200, body: '{"data":{"virtual_accounts":[]}}' };

function draft(): ProviderCreateRequest {
  return {
    externalId: "0123456789abcdef0123456789abcdef",
    bankCode: "PERMATA",
    usage: "MULTI",
    amount: { type: "FIXED", amount: 12_333n },
    expiresAt: new Date(Date.now() + 3_600_000),
    customer: { name: "Ardi Hanan", email: "ardi@gmail.com", phone: "+6288888888" },
    numberSuffix: "123456",
    description: "",
  };
}

const vaRef: ProviderVaRef = {
  providerAccount: "published",
  providerReference: "va_sample_6YBBiGRAPa0943",
  vaNumber: "8856500451311212",
  bankCode: "PERMATA",
};

describe("published API answers through the adapter", () => {
  it("reads the create sample: Durianpay's VA id is both the reference and the VA identity", async () => {
    const provider = await publishedDurianpay((method, path) =>
      path !== "/v1/payments/va"
        ? undefined
        : method === "GET"
          ? EMPTY_LIST
          : { status: 201, body: sample("create-response.json") },
    );
    expect(await provider.createVirtualAccount(draft(), signal)).toEqual({
      providerAccount: "published",
      providerReference: "va_sample_pWM5k3BUI63935",
      providerVaId: "va_sample_pWM5k3BUI63935",
      vaNumber: "88565004123456",
    });
  });

  it.each([
    ["error-form.json", 400, "INVALID_ARGUMENT", { field: "bank_code", providerCode: "DPAY_INVALID_REQUEST" }],
    ["error-auth.json", 401, "FAILED_PRECONDITION", { providerCode: "DPAY_UNAUTHORIZED_ACCESS" }],
    ["error-other.json", 400, "ALREADY_EXISTS", { field: "number_suffix", providerCode: "DPAY_INTERNAL_ERROR" }],
  ] as const)("maps %s (HTTP %i) to %s", async (file, status, kind, facts) => {
    const provider = await publishedDurianpay((method) => (method === "GET" ? EMPTY_LIST : { status, body: sample(file) }));
    const error = await provider.createVirtualAccount(draft(), signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ kind, facts });
  });

  it("reads the fetch-one sample: an expired open VA with a one-sided minimum and no payments", async () => {
    const provider = await publishedDurianpay(() => ({ status: 200, body: sample("fetch-one-response.json") }));
    expect(await provider.fetchVirtualAccount(vaRef, signal)).toEqual({
      providerReference: "va_sample_6YBBiGRAPa0943",
      vaNumber: "8856500451311212",
      bankCode: "PERMATA",
      usage: "MULTI",
      amount: { type: "OPEN" },
      expiresAt: new Date("2022-06-27T13:54:27.333786Z"),
      status: "EXPIRED",
      disabled: false,
      payments: [],
    });
  });

  it("reads a VA payment item carrying the published Payment fields (string amount, times, status)", () => {
    const page = json("fetch-one-response.json");
    (page.data as Record<string, unknown>).payments = [JSON.parse(sample("payment-fetch-one.txt"))];
    expect(readFetchPage(page).payments).toEqual([
      { providerPaymentRef: "pay_76n67eK9Fq4137", amount: 20_000n, paidAt: new Date("2021-09-20T05:11:15.161768Z") },
    ]);
  });

  it("reads the simulate samples: success, then the payment is found on the VA; failure with its reason", async () => {
    let fetches = 0;
    const withPayment = json("fetch-one-response.json");
    (withPayment.data as Record<string, unknown>).payments = [JSON.parse(sample("payment-fetch-one.txt"))];
    const provider = await publishedDurianpay((method, path) => {
      if (path === "/v1/payments/va/simulate") return { status: 200, body: sample("simulate-success.json") };
      if (method !== "GET") return undefined;
      fetches++;
      // Page 1 before the payment; after it, page 1 lists it and page 2 is empty.
      return fetches === 1 || fetches === 3
        ? { status: 200, body: sample("fetch-one-response.json") }
        : { status: 200, body: withPayment };
    });
    expect(await provider.simulatePayment(vaRef, 20_000n, signal)).toEqual({ providerPaymentRef: "pay_76n67eK9Fq4137" });

    const refusing = await publishedDurianpay((method) =>
      method === "GET"
        ? { status: 200, body: sample("fetch-one-response.json") }
        : { status: 422, body: sample("simulate-failure.json") },
    );
    const error = await refusing.simulatePayment(vaRef, 20_000n, signal).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "FAILED_PRECONDITION" });
    expect((error as Error).message).toContain("VA Not found");
  });
});

describe("published webhook samples through the webhook route of a real gateway", () => {
  let gateway: TestGateway;
  let client: ReturnType<typeof vaClient>;
  let kit: SandboxKit;
  const post = (body: string, path = "") =>
    fetch(`${gateway.url}/webhooks/durianpay${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }).then(async (response) => ({ status: response.status, body: await response.text() }));

  beforeAll(async () => {
    gateway = await startTestGateway({ dialect: "sqlite", controlledClock: true });
    client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    kit = gateway.sandboxKits.get("durianpay") as SandboxKit;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const ledger = async (va: VirtualAccount | undefined) =>
    (await client.getPaymentStatus({ virtualAccountId: va?.id ?? "" })).payments.map((p) => ({
      ref: p.providerPaymentReference,
      amount: p.amount,
    }));

  /** A VA paid at the simulator whose webhook was held back: the payment we then claim by hand. */
  async function paidVaWithHeldWebhook(amount: bigint) {
    const { virtualAccount } = await client.createVirtualAccount(
      createRequest({ provider: "durianpay", bankCode: "PERMATA", amount: { rule: { case: "fixed", value: { amount } } } }),
    );
    kit.misbehaviour.holdCallbacks(true);
    const paid = await client
      .simulatePayment({ virtualAccountId: virtualAccount?.id ?? "", amount })
      .finally(() => kit.misbehaviour.holdCallbacks(false));
    return { va: virtualAccount, ref: paid.providerPaymentReference };
  }

  it("acknowledges the published order sample (status started) with 200 and records nothing", async () => {
    const answer = await post(sample("webhook-events-sample.json"));
    expect(answer.status).toBe(200);
    gateway.advanceClock(10 * 60_000);
    expect(await gateway.intake.reviewHeld()).toEqual({ reviewed: 0, recorded: 0, refuted: 0 });
  });

  it("acknowledges the published sample under an event path other than payment.completed", async () => {
    expect((await post(sample("webhook-events-sample.json"), "/order.created")).status).toBe(200);
  });

  it("records a payment.completed in the published flat shape once Durianpay's API confirms it", async () => {
    const { va, ref } = await paidVaWithHeldWebhook(12_345n);
    const published = json("webhook-events-sample.json");
    const staticVa = /"metadata": (\{[^}]*\})/.exec(sample("webhook-static-va-metadata.txt"))?.[1] ?? "{}";
    const body = JSON.stringify({
      ...published,
      id: ref,
      amount: 1_234_500,
      status: "completed",
      amount_str: "12345.00",
      metadata: {
        ...(published.metadata as object),
        ...JSON.parse(staticVa),
        static_va_id: va?.providerReference,
        static_va_account_number: va?.vaNumber,
      },
    });
    expect(await post(body)).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect(await ledger(va)).toEqual([{ ref, amount: 12_345n }]);
    // Retried by Durianpay (anything but 200 is retried; here a duplicate): the same answer, one payment.
    expect(await post(body)).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect(await ledger(va)).toEqual([{ ref, amount: 12_345n }]);
  });

  it("refuses (404) a completed payment naming the published static VA id, which Durianpay does not know", async () => {
    const body = JSON.stringify({
      ...json("webhook-events-sample.json"),
      id: "pay_D3yQ1WWSu12492",
      status: "completed",
      metadata: JSON.parse(/"metadata": (\{[^}]*\})/.exec(sample("webhook-static-va-metadata.txt"))?.[1] ?? "{}"),
    });
    const answer = await post(body);
    expect(answer.status).toBe(404);
    gateway.advanceClock(10 * 60_000);
    expect((await gateway.intake.reviewHeld()).reviewed).toBe(0);
  });
});

describe("the simulator speaks the published shapes", () => {
  let simulator: DurianpaySimulator;
  let received: string[];
  const running: Array<() => Promise<void>> = [];
  const authorization = `Basic ${Buffer.from(`${SERVER_KEY}:`).toString("base64")}`;
  const api = async (method: string, path: string, body?: object) => {
    const response = await fetch(`${simulator.url}${path}`, {
      method,
      headers: { authorization, "content-type": "application/json" },
      body: body && JSON.stringify(body),
    });
    return (await response.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    received = [];
    const receiver = await startSimulatorServer((request) => {
      received.push(request.rawBody.toString("utf8"));
      return { status: 200, body: {} };
    });
    simulator = await startDurianpaySimulator({ serverKey: SERVER_KEY, callbackUrl: receiver.url });
    running.push(
      () => receiver.close(),
      () => simulator.close(),
    );
  });
  afterAll(async () => {
    for (const close of running.splice(0).reverse()) await close();
  });

  const createBody = {
    bank_code: "PERMATA",
    name: "Ardi Hanan Durian",
    is_closed: true,
    amount: "12333",
    customer: { given_name: "Ardi Hanan", mobile: "+6288888888", email: "ardi@gmail.com" },
    expiry_minutes: 14400,
    account_suffix: "123456",
    is_reusable: true,
    va_ref_id: "1234",
    auto_disable_after_payment: true,
  };

  it("answers create, fetch-one, list and errors in the published shapes", async () => {
    const created = await api("POST", "/v1/payments/va", createBody);
    expect(shapeProblems(created, json("create-response.json"))).toEqual([]);
    const id = ((created.data as Record<string, unknown>).virtual_account as Record<string, unknown>).id;

    const fetched = await api("GET", `/v1/payments/va/${id}`);
    const { payments, ...withoutPayments } = fetched.data as Record<string, unknown>;
    expect(payments).toEqual([]);
    // The published page is an open VA with a minimum; the shapes differ only where a closed VA has nulls.
    const published = json("fetch-one-response.json");
    const publishedVa = (published.data as Record<string, Record<string, unknown>>).virtual_account as Record<string, unknown>;
    expect(
      shapeProblems(
        { data: withoutPayments },
        { data: { ...(published.data as object), virtual_account: { ...publishedVa, min_amount: null } } },
      ),
    ).toEqual([]);

    const listed = await api("GET", "/v1/payments/va?limit=2&skip=0");
    const [item] = (listed.data as Record<string, unknown[]>).virtual_accounts ?? [];
    const createdVa = (json("create-response.json").data as Record<string, unknown>).virtual_account;
    expect(shapeProblems(item, createdVa)).toEqual([]);

    expect(shapeProblems(await api("POST", "/v1/payments/va", {}), json("error-form.json"))).toEqual([]);
    const unauthorized = await fetch(`${simulator.url}/v1/payments/va`, { method: "POST", body: "{}" });
    expect(shapeProblems(await unauthorized.json(), json("error-auth.json"))).toEqual([]);
    expect(
      shapeProblems(await api("POST", "/v1/payments/va", { ...createBody, va_ref_id: "again" }), json("error-other.json")),
    ).toEqual([]);
    expect(
      shapeProblems(
        await api("POST", "/v1/payments/va/simulate", { account_number: "0", amount: "1" }),
        json("simulate-failure.json"),
      ),
    ).toEqual([]);
  });

  it("lists VA payments with the published Payment object's fields and types", async () => {
    const created = await api("POST", "/v1/payments/va", {
      ...createBody,
      account_suffix: "654321",
      is_closed: false,
      amount: undefined,
    });
    const va = (created.data as Record<string, Record<string, string>>).virtual_account;
    const paid = await api("POST", "/v1/payments/va/simulate", { account_number: va?.account_number, amount: "20000" });
    expect(shapeProblems(paid, json("simulate-success.json"))).toEqual([]);
    const fetched = await api("GET", `/v1/payments/va/${va?.id}`);
    const [item] = (fetched.data as Record<string, unknown[]>).payments ?? [];
    // Some of the published Payment object's fields, each of the published type and nothing else;
    expect(shapeProblems(item, JSON.parse(sample("payment-fetch-one.txt")), { allowMissing: true })).toEqual([]);
    // among them the three fields the published VA page shows before it is cut off.
    expect(Object.keys(item ?? {})).toEqual(expect.arrayContaining(["id", "order_id", "payment_ref_id"]));
  });

  it("sends the webhook flat, with the published keys and types and the published static-VA metadata keys", async () => {
    await simulator.idle();
    const webhook = JSON.parse(received.at(-1) ?? "{}") as Record<string, unknown>;
    const published = json("webhook-events-sample.json");
    const staticVa = JSON.parse(/"metadata": (\{[^}]*\})/.exec(sample("webhook-static-va-metadata.txt"))?.[1] ?? "{}");
    const withStaticVa = { ...published, metadata: { ...(published.metadata as object), ...staticVa } };
    expect(shapeProblems(webhook, withStaticVa, { exempt: ["payment_link_url"] })).toEqual([]);
    // `payment_link_url` is where the stored copy of the sample ends: the key is published, its value is not.
    expect(typeof webhook.payment_link_url).toBe("string");
    expect(webhook.amount).toBe(Number(webhook.amount_str) * 100);
  });
});
