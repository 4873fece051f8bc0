import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import type { ProviderCreateRequest } from "../../src/providers/provider.js";
import type { SandboxKit } from "../../src/sandbox/kit.js";
import { startSandboxKit } from "../../src/sandbox/sandbox/kit.js";

/** The sandbox kit's misbehaviour switches against a plain HTTP receiver that answers 200. */

const signal = new AbortController().signal;
let counter = 0;
const request = (overrides: Partial<ProviderCreateRequest> = {}): ProviderCreateRequest => ({
  externalId: `mis-${++counter}`,
  bankCode: "BNI",
  usage: "SINGLE",
  amount: { type: "FIXED", amount: 25_000n },
  expiresAt: new Date(Date.now() + 3_600_000),
  customer: { name: "Budi Santoso", email: "", phone: "" },
  numberSuffix: "",
  description: "",
  ...overrides,
});

describe("sandbox misbehaviour switches", () => {
  let kit: SandboxKit;
  const received: { at: number; timestamp: string; body: string }[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({
      at: Date.now(),
      timestamp: String(req.headers["x-sandbox-timestamp"]),
      body: Buffer.concat(chunks).toString(),
    });
    res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
  });

  beforeAll(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/sandbox`;
    kit = await startSandboxKit()({ webhookUrl, now: () => new Date(), retryDelaysMs: [10] });
  });
  afterAll(async () => {
    await kit?.close();
    server.closeAllConnections();
    server.close();
  });

  it("a lost create answer: the VA exists, the retry with the same external id gets that VA", async () => {
    const create = request();
    kit.misbehaviour.loseNextCreateAnswer();
    const lost = await kit.provider.createVirtualAccount(create, signal).catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(DomainError);
    expect((lost as DomainError).kind).toBe("UNAVAILABLE");
    const retried = await kit.provider.createVirtualAccount(create, signal);
    const again = await kit.provider.createVirtualAccount({ ...create, expiresAt: new Date(Date.now() + 7_200_000) }, signal);
    expect(again.providerReference).toBe(retried.providerReference);
  });

  it("pay before the create answer: the callback is delivered and answered before the create resolves", async () => {
    const before = received.length;
    kit.misbehaviour.payBeforeNextCreateAnswer(25_000n);
    const va = await kit.provider.createVirtualAccount(request(), signal);
    expect(received.length).toBe(before + 1);
    expect(JSON.parse(received.at(-1)?.body ?? "{}")).toMatchObject({
      virtual_account_id: va.providerReference,
      amount: "25000",
    });
  });

  it("held callbacks go out later with their original timestamp; confirmPayment finds them", async () => {
    const va = await kit.provider.createVirtualAccount(request(), signal);
    kit.misbehaviour.holdCallbacks(true);
    const before = received.length;
    const simulated = await kit.provider.simulatePayment?.({ ...va, bankCode: "BNI" }, 25_000n, signal);
    const providerPaymentRef = simulated?.providerPaymentRef;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(received.length).toBe(before);
    kit.misbehaviour.holdCallbacks(false);
    const answers = await kit.misbehaviour.deliverHeldCallbacks();
    expect(answers.map((a) => a.status)).toEqual([200]);
    const late = received.at(-1);
    expect(Number(late?.timestamp)).toBeLessThan(Math.floor((late?.at ?? 0) / 1000));
    const claim = JSON.parse(late?.body ?? "{}") as { payment_id: string };
    expect(claim.payment_id).toBe(providerPaymentRef);
    const confirmed = await kit.provider.confirmPayment?.(
      {
        providerAccount: "M-SANDBOX",
        providerPaymentRef: claim.payment_id,
        vaNumber: va.vaNumber,
        amount: 1n,
        fee: undefined,
        paidAt: new Date(),
        rawPayload: "",
      },
      signal,
    );
    expect(confirmed).toMatchObject({ paid: true, notification: { amount: 25_000n, providerVaId: va.providerVaId } });
  });

  it("a reissued number and a payment other than the bill", async () => {
    const first = await kit.provider.createVirtualAccount(request(), signal);
    await kit.provider.cancelVirtualAccount({ ...first, bankCode: "BNI" }, signal);
    kit.misbehaviour.reissueNumberOnNextCreate?.(first.vaNumber);
    const second = await kit.provider.createVirtualAccount(request(), signal);
    expect(second.vaNumber).toBe(first.vaNumber);
    expect(second.providerVaId).not.toBe(first.providerVaId);

    const paid = await kit.misbehaviour.payOtherThanBill({ ...second, bankCode: "BNI" }, 25_000n);
    expect(paid.amount).toBe(12_500n);
    expect(kit.payments()).toContainEqual(paid);
    const listed = await kit.provider.fetchPayments?.({ ...second, bankCode: "BNI" }, signal);
    expect(listed?.map((p) => [p.providerPaymentRef, p.providerVaId, p.amount])).toEqual([
      [paid.providerPaymentRef, second.providerVaId, 12_500n],
    ]);
  });
});
