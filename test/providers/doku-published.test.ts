import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDokuProvider, type DokuProvider } from "../../src/providers/doku/adapter.js";
import { dokuCapabilities } from "../../src/providers/doku/capabilities.js";
import { dokuTimestamp, signRequest } from "../../src/providers/doku/signature.js";
import { readNotification } from "../../src/providers/doku/transformers.js";
import { type DokuSimulator, startDokuSimulator } from "../../src/sandbox/doku/simulator.js";
import { type RunningSimulator, startSimulatorServer } from "../../src/sandbox/simulator-kit.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { shapeProblems } from "../support/json-shape.js";

/**
 * DOKU's published samples (test/fixtures/doku, sources in SOURCES.md), kept byte for byte: inbound
 * notifications through the real webhook route of a started gateway, the same bodies as check status
 * answers through the adapter's parsing, and the simulator's output against their shape.
 */
const FIXTURES = join(import.meta.dirname, "../fixtures/doku");
const SAMPLE_HEADERS = JSON.parse(readFileSync(join(FIXTURES, "notification-headers.json"), "utf8")) as Record<string, string>;
const CLIENT_ID = SAMPLE_HEADERS["Client-Id"] as string;
const SECRET_KEY = "SK-published-samples-1";
const NOTIFICATION_PATH = "/webhooks/doku";
const signal = new AbortController().signal;

const notifications = readdirSync(FIXTURES)
  .filter((name) => name.startsWith("notification-va-"))
  .map((name) => ({ name, raw: readFileSync(join(FIXTURES, name), "utf8") }));
const pageSample = readFileSync(join(FIXTURES, "notification-va-bca-page.json"), "utf8");

/** The sample's own signature was made with DOKU's sandbox key, which we do not have: sign the same bytes with ours. */
function signed(raw: string, requestTimestamp: string) {
  const requestId = SAMPLE_HEADERS["Request-Id"] as string;
  const parts = { clientId: CLIENT_ID, requestId, requestTimestamp, requestTarget: NOTIFICATION_PATH, body: raw };
  return {
    "content-type": "application/json",
    "Client-Id": CLIENT_ID,
    "Request-Id": requestId,
    "Request-Timestamp": requestTimestamp,
    Signature: signRequest(parts, SECRET_KEY),
  };
}

describe("DOKU's published notification samples through the gateway's webhook route", () => {
  let gateway: TestGateway;
  let adapter: DokuProvider;

  beforeAll(async () => {
    adapter = createDokuProvider({
      baseUrl: "http://127.0.0.1:9",
      clientId: CLIENT_ID,
      secretKey: SECRET_KEY,
      mode: "DGPC",
      notificationPath: NOTIFICATION_PATH,
    });
    gateway = await startTestGateway({
      dialect: "sqlite",
      config: { sandbox: false },
      overrides: { extraProviders: [{ adapter, capabilities: dokuCapabilities }] },
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it.each(notifications)(
    "$name: read exactly, and acknowledged 2xx although it matches no VA of ours (held)",
    async ({ raw }) => {
      const reading = readNotification(raw);
      if (reading.kind !== "payment") throw new Error(`unreadable sample: ${JSON.stringify(reading)}`);
      const sample = JSON.parse(raw);
      expect(reading.payment).toMatchObject({
        invoiceNumber: sample.order.invoice_number,
        vaNumber: sample.virtual_account_info.virtual_account_number,
        amount: BigInt(sample.order.amount),
        paidAt: new Date(sample.transaction.date),
      });
      const fresh = await fetch(gateway.url + NOTIFICATION_PATH, {
        method: "POST",
        headers: signed(raw, dokuTimestamp(new Date())),
        body: raw,
      });
      expect(fresh.status).toBe(200);
    },
  );

  it("the sample as DOKU timestamped it (2020-08-11T08:45:42Z): signed, so doubtful, not refused", async () => {
    const raw = pageSample;
    const stale = await fetch(gateway.url + NOTIFICATION_PATH, {
      method: "POST",
      headers: signed(raw, SAMPLE_HEADERS["Request-Timestamp"] as string),
      body: raw,
    });
    // DOKU's check status is out of reach here: the payment is held for confirmation and acknowledged.
    expect(stale.status).toBe(200);
  });

  it("a sample with a spoiled signature is refused with DOKU's error shape", async () => {
    const raw = pageSample;
    const headers = { ...signed(raw, dokuTimestamp(new Date())), Signature: SAMPLE_HEADERS.Signature as string };
    const refused = await fetch(gateway.url + NOTIFICATION_PATH, { method: "POST", headers, body: raw });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: { code: "invalid_signature", message: expect.any(String) } });
  });
});

describe("the same samples as check status answers ('similar to HTTP notification'), through the adapter", () => {
  let server: RunningSimulator;
  let answer = "";

  beforeAll(async () => {
    server = await startSimulatorServer(() => ({ status: 200, body: answer }));
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(notifications)("$name: fetchPayments names the payment as the notification does", async ({ raw }) => {
    answer = raw;
    const adapter = createDokuProvider({ baseUrl: server.url, clientId: CLIENT_ID, secretKey: SECRET_KEY, mode: "DGPC" });
    const sample = JSON.parse(raw);
    const ref = {
      providerAccount: CLIENT_ID,
      providerReference: sample.order.invoice_number,
      vaNumber: sample.virtual_account_info.virtual_account_number,
      bankCode: "BCA",
    };
    const reading = readNotification(raw);
    if (reading.kind !== "payment") throw new Error("unreadable sample");
    expect(await adapter.fetchPayments?.(ref, signal)).toEqual([
      expect.objectContaining({
        providerPaymentRef: reading.payment.providerPaymentRef,
        amount: BigInt(sample.order.amount),
        rawPayload: raw,
        providerVaId: sample.order.invoice_number,
      }),
    ]);
  });
});

describe("the simulator speaks the published shapes", () => {
  let simulator: DokuSimulator;
  let receiver: RunningSimulator;
  const bodies: string[] = [];

  beforeAll(async () => {
    simulator = await startDokuSimulator({ clientId: CLIENT_ID, secretKey: SECRET_KEY, retryDelaysMs: [] });
    receiver = await startSimulatorServer((request) => {
      bodies.push(request.rawBody.toString("utf8"));
      return { status: 200, body: {} };
    });
    simulator.setNotificationUrl(`${receiver.url}${NOTIFICATION_PATH}`);
  });
  afterAll(async () => {
    await simulator?.close();
    await receiver?.close();
  });

  const bcaSamples = notifications.filter(({ name }) => name.startsWith("notification-va-bca")).map(({ raw }) => JSON.parse(raw));
  /** Where `ours` differs from each BCA sample: one of the lists must be empty. */
  const againstBcaSamples = (ours: string | undefined) =>
    bcaSamples.map((published) => shapeProblems(JSON.parse(ours ?? "null"), published));

  it("its notification and its check status answer have the keys and types of DOKU's BCA sample", async () => {
    const adapter = createDokuProvider({ baseUrl: simulator.url, clientId: CLIENT_ID, secretKey: SECRET_KEY, mode: "DGPC" });
    const va = await adapter.createVirtualAccount(
      {
        externalId: "INV-20210124-0001",
        bankCode: "BCA",
        usage: "SINGLE",
        amount: { type: "FIXED", amount: 150_000n },
        expiresAt: new Date(Date.now() + 3_600_000),
        customer: { name: "Anton Budiman", email: "", phone: "" },
        numberSuffix: "",
        description: "",
      },
      signal,
    );
    simulator.simulatePayment({ vaNumber: va.vaNumber, amount: 150_000n });
    await simulator.idle();
    expect(againstBcaSamples(bodies.at(-1))).toContainEqual([]);

    const [status] = (await adapter.fetchPayments?.({ ...va, bankCode: "BCA" }, signal)) ?? [];
    expect(againstBcaSamples(status?.rawPayload)).toContainEqual([]);
  });
});
