import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { createDokuProvider, type DokuProvider } from "../../src/providers/doku/adapter.js";
import { dokuTimestamp, signatureComponent, signRequest } from "../../src/providers/doku/signature.js";
import type { ProviderCreateRequest, WebhookResult } from "../../src/providers/provider.js";
import { type DokuSimulator, startDokuSimulator } from "../../src/sandbox/doku/simulator.js";
import { type RunningSimulator, startSimulatorServer } from "../../src/sandbox/simulator-kit.js";

/**
 * What keeps a real DOKU payment from being lost: check status (confirmation of late notifications,
 * reconciliation), adoption of a payment code whose create answer was lost, and the simulator's
 * misbehaviour switches. Adapter and simulator talk over real HTTP.
 */
const CLIENT_ID = "BRN-0001-10791114622547";
const SECRET_KEY = "SK-recovery-5a4b3c";
const NOTIFICATION_PATH = "/webhooks/doku";
const signal = new AbortController().signal;
const MINUTE = 60_000;

let offsetMs = 0;
const now = () => new Date(Date.now() + offsetMs);
let simulator: DokuSimulator;
let receiver: RunningSimulator;
let doku: DokuProvider;
const received: WebhookResult[] = [];

beforeAll(async () => {
  simulator = await startDokuSimulator({ clientId: CLIENT_ID, secretKey: SECRET_KEY, retryDelaysMs: [10, 10, 10], now });
  doku = createDokuProvider({
    baseUrl: simulator.url,
    clientId: CLIENT_ID,
    secretKey: SECRET_KEY,
    mode: "DGPC",
    notificationPath: NOTIFICATION_PATH,
    now,
  });
  receiver = await startSimulatorServer(async (request) => {
    const result = await doku.receiveWebhook({
      method: request.method,
      path: request.path,
      headers: flatHeaders(request.headers),
      rawBody: request.rawBody,
    });
    received.push(result);
    const answer = result.kind === "payment" ? result.answer("HELD") : result.answer;
    return { status: answer.status, body: answer.body };
  });
  simulator.setNotificationUrl(`${receiver.url}${NOTIFICATION_PATH}`);
});

afterAll(async () => {
  await simulator.close();
  await receiver.close();
});

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(",") : value]),
  );
}

function createRequest(overrides: Partial<ProviderCreateRequest> = {}): ProviderCreateRequest {
  return {
    externalId: `inv-${randomUUID()}`,
    bankCode: "BCA",
    usage: "SINGLE",
    amount: { type: "FIXED", amount: 25_000n },
    expiresAt: new Date(now().getTime() + 60 * MINUTE),
    customer: { name: "Anton Budiman", email: "", phone: "" },
    numberSuffix: "",
    description: "",
    ...overrides,
  };
}

async function issue(overrides: Partial<ProviderCreateRequest> = {}) {
  const request = createRequest(overrides);
  const va = await doku.createVirtualAccount(request, signal);
  return { request, va, ref: { ...va, bankCode: request.bankCode } };
}

async function failureOf(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError");
}

describe("check status (GET /orders/v1/status/{invoice})", () => {
  it("signs a GET without the Digest line", () => {
    const component = signatureComponent({
      clientId: CLIENT_ID,
      requestId: "r-1",
      requestTimestamp: "2020-11-18T08:45:42Z",
      requestTarget: "/orders/v1/status/INV-1",
      body: undefined,
    });
    expect(component).toBe(
      `Client-Id:${CLIENT_ID}\nRequest-Id:r-1\nRequest-Timestamp:2020-11-18T08:45:42Z\nRequest-Target:/orders/v1/status/INV-1`,
    );
  });

  it("simulator: refuses a GET signed with a Digest line, answers one signed without", async () => {
    const { request } = await issue();
    const path = `/orders/v1/status/${request.externalId}`;
    const call = (body: string | undefined) => {
      const requestId = randomUUID();
      const requestTimestamp = dokuTimestamp(now());
      const parts = { clientId: CLIENT_ID, requestId, requestTimestamp, requestTarget: path, body };
      return fetch(simulator.url + path, {
        headers: {
          "Client-Id": CLIENT_ID,
          "Request-Id": requestId,
          "Request-Timestamp": requestTimestamp,
          Signature: signRequest(parts, SECRET_KEY),
        },
      });
    };
    expect((await call("")).status).toBe(401);
    const answer = await call(undefined);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      transaction: { status: "PENDING" },
      order: { invoice_number: request.externalId, amount: 25000 },
    });
  });

  it("fetchPayments finds a payment whose notification never came, under the notification's reference", async () => {
    const { va, ref } = await issue();
    expect(await doku.fetchPayments?.(ref, signal)).toEqual([]);
    simulator.holdNotifications(true);
    const paid = simulator.simulatePayment({ vaNumber: va.vaNumber, amount: 25_000n });
    simulator.holdNotifications(false);
    const found = await doku.fetchPayments?.(ref, signal);
    expect(found).toEqual([
      expect.objectContaining({
        providerPaymentRef: paid.providerPaymentRef,
        amount: 25_000n,
        vaNumber: va.vaNumber,
        providerVaId: va.providerVaId,
      }),
    ]);
    const [late] = await simulator.deliverHeldNotifications();
    expect(late?.status).toBe(200);
    const notification = received.at(-1);
    expect(notification?.kind === "payment" && notification.notification.providerPaymentRef).toBe(paid.providerPaymentRef);
  });

  it("fetchPayments is empty for an invoice DOKU does not know, and UNAVAILABLE when DOKU cannot answer", async () => {
    const unknown = { providerAccount: CLIENT_ID, providerReference: "inv-never", vaNumber: "1", bankCode: "BCA" };
    expect(await doku.fetchPayments?.(unknown, signal)).toEqual([]);
    const down = createDokuProvider({ baseUrl: "http://127.0.0.1:9", clientId: CLIENT_ID, secretKey: SECRET_KEY, mode: "DGPC" });
    expect((await failureOf(down.fetchPayments?.(unknown, signal) ?? Promise.resolve())).kind).toBe("UNAVAILABLE");
  });
});

describe("a late notification (DOKU retries at +30 min, +6 h, +12 h)", () => {
  it("keeps its first Request-Timestamp, passes its signature, and is doubtful until check status confirms it", async () => {
    const { va } = await issue();
    simulator.holdNotifications(true);
    const paid = simulator.simulatePayment({ vaNumber: va.vaNumber, amount: 25_000n });
    simulator.holdNotifications(false);
    const firstTimestamp = paid.delivery.delivery.headers["Request-Timestamp"];
    offsetMs += 31 * MINUTE;
    try {
      const [answer] = await simulator.deliverHeldNotifications();
      expect(answer?.status).toBe(200);
      const late = received.at(-1);
      if (late?.kind !== "payment") throw new Error("expected a payment");
      expect(paid.delivery.delivery.headers["Request-Timestamp"]).toBe(firstTimestamp);
      expect(late.belief).toEqual({ verified: false, doubt: expect.stringContaining("31 min") });

      const confirmation = await doku.confirmPayment?.(late.notification, signal);
      expect(confirmation).toEqual({
        paid: true,
        notification: expect.objectContaining({ providerPaymentRef: paid.providerPaymentRef, amount: 25_000n }),
      });
    } finally {
      offsetMs -= 31 * MINUTE;
    }
  });

  it("is refuted when check status has no such payment, and answered 404 so DOKU retries it", async () => {
    const { va } = await issue();
    const claim = {
      providerAccount: CLIENT_ID,
      providerPaymentRef: `${va.providerReference}#REFERENCE=1`,
      vaNumber: va.vaNumber,
      amount: 25_000n,
      fee: undefined,
      paidAt: now(),
      rawPayload: "{}",
      providerVaId: va.providerVaId,
    };
    expect(await doku.confirmPayment?.(claim, signal)).toEqual({ paid: false, reason: expect.stringContaining("PENDING") });
    expect(await doku.confirmPayment?.({ ...claim, providerVaId: "inv-unknown" }, signal)).toEqual({
      paid: false,
      reason: expect.stringContaining("no transaction"),
    });
  });
});

describe("a create whose answer was lost", () => {
  it("is retried and adopts the payment code the lost attempt made, although expired_time moved on", async () => {
    const request = createRequest();
    simulator.loseNextCreateAnswer();
    expect((await failureOf(doku.createVirtualAccount(request, signal))).kind).toBe("UNAVAILABLE");
    offsetMs += 2 * MINUTE;
    try {
      const adopted = await doku.createVirtualAccount(request, signal);
      const codes = [...simulator.ledger.values()].filter((entry) => entry.invoiceNumber === request.externalId);
      expect(codes).toHaveLength(1);
      expect(adopted).toEqual({
        providerAccount: CLIENT_ID,
        providerReference: request.externalId,
        providerVaId: request.externalId,
        vaNumber: codes[0]?.vaNumber,
      });
    } finally {
      offsetMs -= 2 * MINUTE;
    }
  });

  it("never adopts a code made for another amount under the same invoice", async () => {
    const request = createRequest();
    await doku.createVirtualAccount(request, signal);
    const other = { ...request, amount: { type: "FIXED", amount: 30_000n } as const };
    expect((await failureOf(doku.createVirtualAccount(other, signal))).kind).toBe("ALREADY_EXISTS");
  });
});

describe("simulator misbehaviour switches", () => {
  it("pays the code and has its notification answered before answering the create", async () => {
    const before = received.length;
    simulator.payBeforeNextCreateAnswer(25_000n);
    const { request } = await issue();
    expect(received.length).toBe(before + 1);
    const early = received.at(-1);
    expect(early?.kind === "payment" && early.notification.providerVaId).toBe(request.externalId);
  });

  it("reissues a paid code's number to the next code; the old invoice still names the old payment", async () => {
    const old = await issue();
    const paid = simulator.simulatePayment({ vaNumber: old.va.vaNumber, amount: 25_000n });
    await simulator.idle();
    simulator.reissueNumberOnNextCreate(old.va.vaNumber);
    const reissued = await issue();
    expect(reissued.va.vaNumber).toBe(old.va.vaNumber);
    expect(reissued.va.providerVaId).not.toBe(old.va.providerVaId);
    const own = simulator.simulatePayment({ vaNumber: reissued.va.vaNumber, amount: 25_000n });
    expect(own.invoiceNumber).toBe(reissued.request.externalId);
    expect(paid.providerPaymentRef.startsWith(`${old.request.externalId}#`)).toBe(true);
  });

  it("lets an acquirer that ignores the bill take another amount", async () => {
    const { va } = await issue();
    expect(() => simulator.simulatePayment({ vaNumber: va.vaNumber, amount: 12_500n })).toThrow(/equal the bill/);
    const paid = simulator.simulatePayment({ vaNumber: va.vaNumber, amount: 12_500n, holdToBill: false });
    await simulator.idle();
    const last = received.at(-1);
    expect(last?.kind === "payment" && [last.notification.providerPaymentRef, last.notification.amount]).toEqual([
      paid.providerPaymentRef,
      12_500n,
    ]);
  });
});
