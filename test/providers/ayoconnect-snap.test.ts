import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { ayoconnectSnapCapabilities } from "../../src/providers/ayoconnect-snap/capabilities.js";
import { paymentReference } from "../../src/providers/ayoconnect-snap/transformers.js";
import { encodeSignature, signatureAsBase64 } from "../../src/providers/ayoconnect-snap/wire.js";
import type { ProviderVaRef, ProviderVirtualAccount } from "../../src/providers/provider.js";
import { type AyoconnectSnapKit, startAyoconnectSnapKitWith } from "../../src/sandbox/ayoconnect-snap/kit.js";
import {
  createRequestBuilder,
  signal,
  startWebhookReceiver,
  type WebhookReceiver,
  waitFor,
} from "../support/provider-harness.js";

const request = createRequestBuilder(() => ({ bankCode: "BCA", expiresAt: new Date(Date.now() + 3_600_000) }));
const lowerCase = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
const ref = (va: ProviderVirtualAccount, bankCode = "BCA"): ProviderVaRef => ({ ...va, bankCode });

describe("signature encodings", () => {
  it("hex and base64 are the same bytes, and a reading in the other encoding fails", () => {
    const base64 = Buffer.from("any signature bytes").toString("base64");
    const hex = encodeSignature(base64, "hex");
    expect(hex).toBe(Buffer.from("any signature bytes").toString("hex"));
    expect(signatureAsBase64(hex, "hex")).toBe(base64);
    expect(signatureAsBase64(base64, "hex")).toBeUndefined();
  });
});

describe("capabilities", () => {
  it("lists multi-payment VAs per the bank matrix: all four combinations except BNI multi-payment closed", () => {
    const combos = Object.fromEntries(
      ayoconnectSnapCapabilities.banks.map((b) => [b.bankCode, b.combinations.map((c) => `${c.usage}/${c.amountType}`).sort()]),
    );
    expect(combos.BCA).toEqual(["MULTI/FIXED", "MULTI/OPEN", "SINGLE/FIXED", "SINGLE/OPEN"]);
    expect(combos.BNI).toEqual(["MULTI/OPEN", "SINGLE/FIXED", "SINGLE/OPEN"]);
    expect(ayoconnectSnapCapabilities.createRetryAdoptsFirst).toBe(false);
  });
});

describe.each(["base64", "hex"] as const)("ayoconnect-snap with %s signatures", (encoding) => {
  let kit: AyoconnectSnapKit;
  let receiver: WebhookReceiver;
  let clock = Date.now();
  const now = () => new Date(clock);

  beforeAll(async () => {
    receiver = await startWebhookReceiver(() => kit.provider);
    kit = await startAyoconnectSnapKitWith({ webhookUrl: receiver.url, now, retryDelaysMs: [10, 10, 10] }, encoding);
  });
  afterAll(async () => {
    await kit?.close();
    await receiver?.close();
  });

  it("multi-payment closed VA: every payment arrives signed and is recorded once; the reconciler sees the latest", async () => {
    const va = await kit.provider.createVirtualAccount(
      request({ usage: "MULTI", amount: { type: "FIXED", amount: 50_000n } }),
      signal,
    );
    expect(va.vaNumber).toMatch(/^14629\d{11}$/);
    receiver.reset();
    const first = await kit.provider.simulatePayment?.(ref(va), 50_000n, signal);
    const second = await kit.provider.simulatePayment?.(ref(va), 50_000n, signal);
    await kit.idle();
    await waitFor(() => receiver.outcomes.length === 2);
    expect(receiver.outcomes).toEqual(["RECORDED", "RECORDED"]);
    const refs = receiver.results.flatMap((r) => (r.kind === "payment" ? [r.notification.providerPaymentRef] : []));
    expect(refs).toEqual([first?.providerPaymentRef, second?.providerPaymentRef]);
    expect(new Set(refs).size).toBe(2);
    for (const result of receiver.results) expect(result.kind === "payment" && result.belief).toEqual({ verified: true });

    const found = await kit.provider.fetchPayments?.(ref(va), signal);
    expect(found?.map((p) => p.providerPaymentRef)).toEqual([second?.providerPaymentRef]);
    // A callback delivered again is the same payment.
    const again = await fetch(kit.lastDelivery()?.url ?? "", { method: "POST", ...kit.lastDelivery() });
    expect(again.status).toBe(200);
    expect(receiver.outcomes.at(-1)).toBe("DUPLICATE");
  });

  it("multi-payment open VA takes any amount; single-payment VA refuses a second payment", async () => {
    const open = await kit.provider.createVirtualAccount(request({ usage: "MULTI", amount: { type: "OPEN" } }), signal);
    await kit.provider.simulatePayment?.(ref(open), 10_000n, signal);
    await kit.provider.simulatePayment?.(ref(open), 70_000n, signal);
    const single = await kit.provider.createVirtualAccount(request(), signal);
    await kit.provider.simulatePayment?.(ref(single), 150_000n, signal);
    await expect(kit.provider.simulatePayment?.(ref(single), 150_000n, signal)).rejects.toMatchObject({
      facts: { providerCode: "4042514" },
    });
  });

  it("refuses a re-serialised body and a body signed with another key; nothing recorded", async () => {
    const va = await kit.provider.createVirtualAccount(request(), signal);
    await kit.provider.simulatePayment?.(ref(va), 150_000n, signal);
    await kit.idle();
    const delivery = kit.lastDelivery();
    const pretty = JSON.stringify(JSON.parse(delivery?.body ?? ""), null, 2);
    const reformatted = await kit.provider.receiveWebhook({
      method: "POST",
      path: new URL(delivery?.url ?? "").pathname,
      headers: lowerCase(delivery?.headers ?? {}),
      rawBody: Buffer.from(pretty),
    });
    expect(reformatted).toMatchObject({ kind: "rejected", answer: { status: 401 } });
    const forged = kit.forgeCallback(ref(va), 150_000n);
    const answer = await kit.provider.receiveWebhook({
      method: "POST",
      path: new URL(forged.url).pathname,
      headers: forged.headers,
      rawBody: Buffer.from(forged.body),
    });
    expect(answer).toMatchObject({ kind: "rejected", answer: { status: 401 } });
  });

  it("a stale signed callback is a doubt that Inquiry VA confirms (its amount wins), or holds while it shows no payment", async () => {
    const va = await kit.provider.createVirtualAccount(request({ usage: "MULTI", amount: { type: "OPEN" } }), signal);
    const paid = await kit.provider.simulatePayment?.(ref(va), 42_000n, signal);
    await kit.idle();
    const delivery = kit.lastDelivery();
    clock += 31 * 60_000;
    const result = await kit.provider.receiveWebhook({
      method: "POST",
      path: new URL(delivery?.url ?? "").pathname,
      headers: lowerCase(delivery?.headers ?? {}),
      rawBody: Buffer.from(delivery?.body ?? ""),
    });
    expect(result).toMatchObject({ kind: "payment", belief: { verified: false } });
    if (result.kind !== "payment") return;
    const confirmation = await kit.provider.confirmPayment(result.notification, signal, { firstSeenAt: now() });
    expect(confirmation).toMatchObject({
      paid: true,
      notification: { providerPaymentRef: paid?.providerPaymentRef, amount: 42_000n },
    });

    // A claim of a later payment than Inquiry VA shows: cannot tell within the grace period, refuted after it.
    const body = JSON.parse(delivery?.body ?? "{}");
    body.virtualAccountData.latestPaidTime = new Date(clock + 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const later = { ...result.notification, rawPayload: JSON.stringify(body) };
    await expect(kit.provider.confirmPayment(later, signal, { firstSeenAt: now() })).rejects.toBeInstanceOf(DomainError);
    const refuted = await kit.provider.confirmPayment(later, signal, { firstSeenAt: new Date(clock - 16 * 60_000) });
    expect(refuted.paid).toBe(false);
  });

  it("updates amount and expiry through Update VA with the create's referenceNo", async () => {
    const va = await kit.provider.createVirtualAccount(request({ amount: { type: "FIXED", amount: 25_000n } }), signal);
    const expiresAt = new Date(clock + 48 * 3_600_000);
    await kit.provider.updateVirtualAccount(ref(va), { amount: { type: "FIXED", amount: 30_000n }, expiresAt }, signal);
    const details = await kit.provider.inquireVirtualAccount(ref(va), signal);
    expect(details.totalAmount).toBe(30_000n);
    expect(details.expiresAt?.getTime()).toBe(Math.floor(expiresAt.getTime() / 1000) * 1000);
  });

  it("a create retried after a lost answer fails FAILED_PRECONDITION and makes no second VA", async () => {
    const lost = request();
    kit.misbehaviour.loseNextCreateAnswer();
    await expect(kit.provider.createVirtualAccount(lost, signal)).rejects.toMatchObject({ kind: "UNAVAILABLE" });
    await expect(kit.provider.createVirtualAccount(lost, signal)).rejects.toMatchObject({
      kind: "FAILED_PRECONDITION",
      facts: { providerCode: "4092400" },
    });
  });

  it("refuses up front what the bank matrix does not offer", async () => {
    await expect(
      kit.provider.createVirtualAccount(
        request({ bankCode: "BNI", usage: "MULTI", amount: { type: "FIXED", amount: 1n } }),
        signal,
      ),
    ).rejects.toMatchObject({ kind: "INVALID_ARGUMENT" });
    await expect(kit.provider.createVirtualAccount(request({ numberSuffix: "1".repeat(19) }), signal)).rejects.toMatchObject({
      kind: "INVALID_ARGUMENT",
      facts: { field: "number_suffix" },
    });
    const bni = await kit.provider.createVirtualAccount(request({ bankCode: "BNI", numberSuffix: "123" }), signal);
    expect(bni.vaNumber).toBe("8662000000000123");
  });

  it("payment references agree between the callback, the simulator and the reconciler", () => {
    expect(paymentReference("a".repeat(32), new Date(0))).toBe(`${"a".repeat(32)}:0`);
  });
});
