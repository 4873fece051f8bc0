import { describe, expect, it } from "vitest";
import { CANCEL_BODY, readWebhook, toCreateBody, toPatchBody } from "../../../../src/providers/durianpay/transformers.js";
import type { ProviderCreateRequest } from "../../../../src/providers/provider.js";

/** Durianpay's pure mapping, wire ⇄ domain, with exact money. */

const NOW = new Date("2026-06-01T08:00:00Z");

const request = (overrides: Partial<ProviderCreateRequest> = {}): ProviderCreateRequest => ({
  externalId: "ext-1",
  bankCode: "PERMATA",
  usage: "SINGLE",
  amount: { type: "FIXED", amount: 150_000n },
  expiresAt: new Date(NOW.getTime() + 2 * 3_600_000 + 30_000),
  customer: { name: "Ardi Hanan", email: "", phone: "+6288888888" },
  numberSuffix: "",
  description: "",
  ...overrides,
});

describe("toCreateBody", () => {
  it("sends a closed VA's amount as a decimal string, exactly, and the expiry rounded down to minutes", () => {
    expect(toCreateBody(request({ usage: "MULTI", amount: { type: "FIXED", amount: 999_999_999_999n } }), NOW)).toEqual({
      bank_code: "PERMATA",
      name: "Ardi Hanan",
      is_closed: true,
      amount: "999999999999",
      min_amount: undefined,
      max_amount: undefined,
      customer: { given_name: "Ardi Hanan", email: undefined, mobile: "+6288888888" },
      expiry_minutes: 120,
      account_suffix: undefined,
      is_reusable: true,
      va_ref_id: "ext-1",
      auto_disable_after_payment: false,
    });
  });

  it("sends a range as JSON integers and an open VA with no amount", () => {
    expect(toCreateBody(request({ amount: { type: "RANGE", min: 10_000n, max: 999_999_999_999n } }), NOW)).toMatchObject({
      is_closed: false,
      amount: undefined,
      min_amount: 10_000,
      max_amount: 999_999_999_999,
    });
    expect(toCreateBody(request({ amount: { type: "OPEN" }, numberSuffix: "42" }), NOW)).toMatchObject({
      is_closed: false,
      amount: undefined,
      min_amount: undefined,
      account_suffix: "42",
    });
  });

  it("patches only what changes; a cancel expires the VA now", () => {
    const expiresAt = new Date(NOW.getTime() + 48 * 3_600_000);
    expect(toPatchBody({ amount: { type: "FIXED", amount: 175_000n }, expiresAt }, NOW)).toEqual({
      amount: 175_000,
      expiry_minutes: 2_880,
    });
    expect(toPatchBody({}, NOW)).toEqual({});
    expect(CANCEL_BODY).toEqual({ expiry_minutes: 0 });
  });
});

describe("readWebhook", () => {
  const payment = {
    id: "pay_abc123",
    status: "completed",
    virtual_account_id: "va_xyz789",
    account_number: "8808123456789",
    paid_at: "2026-06-01T08:30:00Z",
  };

  it("reads amount_str exactly, beyond what a float holds", () => {
    const body = { event: "payment.completed", data: { ...payment, amount_str: "987654321012.00" } };
    expect(readWebhook(body, "/webhooks/durianpay")).toEqual({
      kind: "payment",
      paymentId: "pay_abc123",
      virtualAccountId: "va_xyz789",
      vaNumber: "8808123456789",
      amount: 987_654_321_012n,
      paidAt: new Date("2026-06-01T08:30:00Z"),
    });
  });

  it("reads an amount in hundredths when there is no amount_str, and refuses a fraction of a rupiah", () => {
    expect(readWebhook({ ...payment, amount: 1_234_500 }, "/webhooks/durianpay")).toMatchObject({ amount: 12_345n });
    expect(() => readWebhook({ ...payment, amount: 1_234_550 }, "/webhooks/durianpay")).toThrow();
  });

  it("takes the event from the path when the body has no envelope, and ignores other events", () => {
    expect(readWebhook({ ...payment, amount: 100 }, "/webhooks/durianpay/payment.completed")).toMatchObject({ kind: "payment" });
    expect(readWebhook({ ...payment, amount: 100 }, "/webhooks/durianpay/payment.failed")).toEqual({
      kind: "other",
      event: "payment.failed",
    });
    expect(readWebhook({ ...payment, virtual_account_id: undefined, amount: 100 }, "/webhooks/durianpay")).toEqual({
      kind: "other",
      event: "payment.completed without a virtual account",
    });
  });
});
