import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType, VaUsage, VirtualAccountStatus } from "../../src/gen/va/v1/va_pb.js";
import { createLogger } from "../../src/logging.js";
import { signAccessTokenRequest } from "../../src/protocols/snap/signature.js";
import { formatSnapTimestamp } from "../../src/protocols/snap/timestamp.js";
import { decodeReference, paddedNumber, paymentReference } from "../../src/providers/doku-snap/transformers.js";
import { DokuSnapPath } from "../../src/providers/doku-snap/wire.js";
import { type DokuSnapSandboxKit, startDokuSnapKitWith } from "../../src/sandbox/doku-snap/kit.js";
import { vaClient } from "../support/clients.js";
import { postgresUnavailableReason } from "../support/databases.js";
import { createRequest, rejection, takeEvents } from "../support/fixtures.js";
import { startTestGateway, TENANTS, type TestDialect, type TestGateway } from "../support/gateway.js";
import { createRequestBuilder, signal, startWebhookReceiver, type WebhookReceiver } from "../support/provider-harness.js";

/**
 * DOKU SNAP beyond the shared suites: DIPC (DOKU forwards the bank's inquiry, we answer the bill from
 * our VA, the notification that follows is recorded once) end to end through a real gateway; MGPC
 * numbering, update and delete against the simulator; our token endpoint as DOKU meets it.
 */

const postgresSkip = await postgresUnavailableReason();
const DIALECTS: TestDialect[] = postgresSkip ? ["sqlite"] : ["sqlite", "postgresql"];
const _quietLog = createLogger("error", new Writable({ write: (_chunk, _encoding, done) => done() }));

describe.each(DIALECTS)("DIPC end to end on %s", (dialect) => {
  let gateway: TestGateway;
  let kit: DokuSnapSandboxKit;
  let client: ReturnType<typeof vaClient>;
  let gatewayUrl = "";

  beforeAll(async () => {
    kit = await startDokuSnapKitWith({
      webhookUrl: "",
      merchantUrl: () => `${gatewayUrl}/webhooks/doku-snap`,
      now: () => new Date(),
      retryDelaysMs: [50, 100, 200],
      mode: "DIPC",
    });
    gateway = await startTestGateway({
      dialect,
      overrides: { extraProviders: [{ adapter: kit.provider, capabilities: kit.capabilities }] },
    });
    gatewayUrl = gateway.url;
    // The gateway hands DOKU's forwarded inquiries to the biller's inquiry use case itself.
    client = vaClient(gateway.url, TENANTS.alpha.apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
    await kit?.close();
  });

  const create = async (overrides: Parameters<typeof createRequest>[0] = {}) => {
    const { virtualAccount } = await client.createVirtualAccount(
      createRequest({ provider: "doku-snap", bankCode: "BRI", ...overrides }),
    );
    if (!virtualAccount) throw new Error("no VA");
    return virtualAccount;
  };

  it("numbers the VA under our BIN without calling DOKU; the bank's inquiry is answered with the bill; the payment is recorded once", async () => {
    const before = kit.simulator.received.length;
    const va = await create();
    expect(va.vaNumber).toMatch(/^19008\d{10}$/);
    expect(kit.simulator.received.slice(before).map((r) => r.path)).toEqual([]);

    const { providerPaymentReference } = await client.simulatePayment({ virtualAccountId: va.id });
    const { trxId } = decodeReference(va.providerReference);
    const paid = kit.simulator.ledger.at(-1);
    expect(paid?.inquiryRequestId).toBeDefined();
    // SNAP: the payment of an inquiry carries the inquiry's id as its paymentRequestId.
    expect(paid?.paymentRequestId).toBe(paid?.inquiryRequestId);
    expect(providerPaymentReference).toBe(paymentReference(trxId, paid?.paymentRequestId ?? ""));

    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va.id } }, 3);
    expect(events.map((e) => e.type)).toEqual([
      EventType.VIRTUAL_ACCOUNT_CREATED,
      EventType.VIRTUAL_ACCOUNT_INQUIRED,
      EventType.PAYMENT_RECEIVED,
    ]);
    expect(events[2]?.payment?.amount).toBe(25_000n);

    // The same notification again (DOKU's retry) changes nothing.
    await kit.idle();
    const again = kit.lastDelivery();
    if (!again) throw new Error("no notification");
    const answer = await fetch(again.url, { method: "POST", headers: again.headers, body: again.body });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      responseCode: "2002500",
      virtualAccountData: { paymentRequestId: paid?.paymentRequestId },
    });
    const status = await client.getPaymentStatus({ virtualAccountId: va.id });
    expect(status.payments).toHaveLength(1);
    expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);

    // A second payer is refused at the inquiry: the single-use bill is paid.
    const refused = await rejection(client.simulatePayment({ virtualAccountId: va.id }));
    expect(refused.rawMessage).toMatch(/4042414|Paid Bill|paid/i);
    expect((await client.getPaymentStatus({ virtualAccountId: va.id })).payments).toHaveLength(1);

    // Reconciliation finds the same payment through check status: nothing doubles.
    expect(await kit.provider.fetchPayments?.({ ...va, providerAccount: "" }, signal)).toEqual([
      expect.objectContaining({ providerPaymentRef: providerPaymentReference, amount: 25_000n }),
    ]);
  });

  it("quotes an open multi-use bill with what the payer typed, and records every payment once", async () => {
    const va = await create({ usage: VaUsage.MULTI, amount: { rule: { case: "open", value: {} } } });
    await client.simulatePayment({ virtualAccountId: va.id, amount: 10_000n });
    await client.simulatePayment({ virtualAccountId: va.id, amount: 15_000n });
    await kit.idle();
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va.id } }, 5);
    expect(events.filter((e) => e.type === EventType.PAYMENT_RECEIVED).map((e) => e.payment?.amount)).toEqual([10_000n, 15_000n]);
  });

  it("refuses inquiries for numbers no VA of ours has, and for cancelled VAs, with DOKU's codes", async () => {
    const unknown = await kit.simulator.pay(paddedNumber("19008", "9999999999"));
    expect(unknown).toMatchObject({ ok: false, message: expect.stringContaining("4042412") });
    const va = await create();
    await client.cancelVirtualAccount({ virtualAccountId: va.id, idempotencyKey: `cancel-${va.id}` });
    const cancelled = await kit.simulator.pay(paddedNumber("19008", decodeReference(va.providerReference).customerNo));
    expect(cancelled).toMatchObject({ ok: false, message: expect.stringContaining("4042412") });
    expect((await client.getPaymentStatus({ virtualAccountId: va.id })).payments).toEqual([]);
  });
});

describe("MGPC, update, delete and our token endpoint against the simulator", () => {
  let kit: DokuSnapSandboxKit;
  let receiver: WebhookReceiver;
  const request = createRequestBuilder(() => ({ bankCode: "BCA", amount: { type: "FIXED", amount: 25_000n } }));

  beforeAll(async () => {
    receiver = await startWebhookReceiver(() => kit.provider, { path: "/webhooks/doku-snap" });
    kit = await startDokuSnapKitWith({ webhookUrl: receiver.url, now: () => new Date(), retryDelaysMs: [20], mode: "MGPC" });
  });
  afterAll(async () => {
    await kit?.close();
    await receiver?.close();
  });

  it("MGPC: DOKU registers the number we give, under our BIN; a retry after a lost answer adopts it", async () => {
    const created = await kit.provider.createVirtualAccount(request({ numberSuffix: "123456789" }), signal);
    expect(created.vaNumber).toBe("19008123456789");
    expect(kit.simulator.virtualAccount("   19008123456789")?.trxId).toBe(decodeReference(created.providerReference).trxId);

    kit.simulator.misbehaviour.loseNextCreateAnswer();
    const lost = request();
    await expect(kit.provider.createVirtualAccount(lost, signal)).rejects.toMatchObject({ kind: "UNAVAILABLE" });
    const adopted = await kit.provider.createVirtualAccount(lost, signal);
    expect(decodeReference(adopted.providerReference).trxId).toBe(lost.externalId);
    // Another request under the same trxId (another bill) is not adopted.
    await expect(
      kit.provider.createVirtualAccount({ ...lost, amount: { type: "FIXED", amount: 30_000n } }, signal),
    ).rejects.toMatchObject({
      kind: "ABORTED",
    });
  });

  it("update-va changes amount and expiry; delete-va closes the VA at DOKU", async () => {
    const created = await kit.provider.createVirtualAccount(request(), signal);
    const ref = { ...created, bankCode: "BCA" };
    const expiresAt = new Date(Date.now() + 48 * 3_600_000);
    await kit.provider.updateVirtualAccount?.(ref, { amount: { type: "FIXED", amount: 30_000n }, expiresAt }, signal);
    const number = paddedNumber("19008", decodeReference(created.providerReference).customerNo);
    expect(kit.simulator.virtualAccount(number)).toMatchObject({
      totalAmount: 30_000n,
      expiredDate: formatSnapTimestamp(expiresAt),
    });
    await kit.provider.updateVirtualAccount?.(ref, { expiresAt: new Date(expiresAt.getTime() + 3_600_000) }, signal);
    expect(kit.simulator.virtualAccount(number)?.totalAmount).toBe(30_000n);
    await kit.provider.cancelVirtualAccount(ref, signal);
    expect(kit.simulator.virtualAccount(number)?.deleted).toBe(true);
    expect(await kit.simulator.pay(number)).toMatchObject({ ok: false });
  });

  it("the notification is believed only with a token we issued and the secret's signature", async () => {
    const created = await kit.provider.createVirtualAccount(request(), signal);
    receiver.reset();
    const paid = await kit.simulator.pay(paddedNumber("19008", decodeReference(created.providerReference).customerNo));
    expect(paid.ok).toBe(true);
    await kit.idle();
    // DOKU asked our token endpoint first, then notified with that token.
    expect(receiver.requests.map((r) => r.path)).toEqual([
      "/webhooks/doku-snap/authorization/v1/access-token/b2b",
      "/webhooks/doku-snap/v1.1/transfer-va/payment",
    ]);
    expect(receiver.outcomes).toEqual(["RECORDED"]);
    const forged = kit.forgeCallback({ ...created, bankCode: "BCA" }, 25_000n);
    const answer = await fetch(forged.url, { method: "POST", headers: forged.headers, body: forged.body });
    expect(answer.status).toBe(401);
  });

  it("our token endpoint refuses a request not signed with DOKU's key (4017300)", async () => {
    const timestamp = formatSnapTimestamp(new Date());
    const answer = await fetch(`${receiver.url}${DokuSnapPath.accessToken}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-client-key": kit.secrets.clientId,
        "x-timestamp": timestamp,
        "x-signature": signAccessTokenRequest(kit.secrets.clientId, timestamp, kit.secrets.merchantPrivateKey),
      },
      body: JSON.stringify({ grantType: "client_credentials" }),
    });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ responseCode: "4017300" });
  });

  it("a forwarded inquiry in a mode other than DIPC is answered 5002401", async () => {
    const answer = await kit.simulator.pay(paddedNumber("19008", "5555555555"));
    expect(answer).toMatchObject({ ok: false, message: expect.stringContaining("5002401") });
  });
});
