import { describe, expect, it } from "vitest";
import type { ProviderCreateRequest } from "../../../../src/providers/provider.js";
import {
  readPaymentCallback,
  toCreateVaRequest,
  toPaymentNotification,
  winpayVaType,
  winpayVirtualAccountName,
} from "../../../../src/providers/winpay/transformers.js";

/** Winpay's pure mapping, wire ⇄ domain, with exact money. */

const NOW = new Date("2026-06-01T08:00:00Z");

const request = (overrides: Partial<ProviderCreateRequest> = {}): ProviderCreateRequest => ({
  externalId: "INV-0001",
  bankCode: "CIMB",
  usage: "SINGLE",
  amount: { type: "FIXED", amount: 25_000n },
  expiresAt: new Date(NOW.getTime() + 86_400_000),
  customer: { name: "Chus Pandi", email: "", phone: "" },
  numberSuffix: "",
  description: "",
  ...overrides,
});

const callback = (fields: Record<string, unknown>, info: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      virtualAccountNo: "   2269100000000001",
      paymentRequestId: "pr-1",
      paidAmount: { value: "25000.00", currency: "IDR" },
      trxDateTime: "2026-06-01T15:30:00+07:00",
      referenceNo: "ref-77",
      ...fields,
      additionalInfo: { contractId: "ci-1", ...info },
    }),
  );

describe("toCreateVaRequest", () => {
  it("maps usage and amount to Winpay's VA types, and refuses what has none", () => {
    expect(winpayVaType("SINGLE", { type: "FIXED", amount: 1n })).toBe("c");
    expect(winpayVaType("MULTI", { type: "FIXED", amount: 1n })).toBe("r");
    expect(winpayVaType("MULTI", { type: "OPEN" })).toBe("o");
    expect(() => winpayVaType("SINGLE", { type: "OPEN" })).toThrow(expect.objectContaining({ kind: "INVALID_ARGUMENT" }));
    expect(() => winpayVaType("SINGLE", { type: "RANGE", min: 1n, max: 2n })).toThrow(
      expect.objectContaining({ facts: expect.objectContaining({ field: "amount.range" }) }),
    );
  });

  it("writes the amount as SNAP money to the cent, exactly, up to Winpay's largest amount and no further", () => {
    const wire = toCreateVaRequest(request({ amount: { type: "FIXED", amount: 99_999_999_999n } }), NOW);
    expect(wire).toMatchObject({
      trxId: "INV-0001",
      virtualAccountTrxType: "c",
      totalAmount: { value: "99999999999.00", currency: "IDR" },
      additionalInfo: { channel: "CIMB" },
      virtualAccountName: "Chus Pandi",
    });
    expect(wire).not.toHaveProperty("customerNo");
    expect(() => toCreateVaRequest(request({ amount: { type: "FIXED", amount: 100_000_000_000n } }), NOW)).toThrow(
      expect.objectContaining({ facts: expect.objectContaining({ field: "amount.fixed.amount" }) }),
    );
  });

  it("sends no amount for an open VA and the suffix as customerNo", () => {
    const wire = toCreateVaRequest(
      request({ bankCode: "BSI", usage: "MULTI", amount: { type: "OPEN" }, numberSuffix: "000003212" }),
      NOW,
    );
    expect(wire).toMatchObject({ virtualAccountTrxType: "o", customerNo: "000003212" });
    expect(wire).not.toHaveProperty("totalAmount");
  });

  it("refuses, naming our field, what Winpay would refuse", () => {
    const refused = (overrides: Partial<ProviderCreateRequest>) => {
      try {
        toCreateVaRequest(request(overrides), NOW);
      } catch (error) {
        return (error as { facts?: { field?: string } }).facts?.field;
      }
      return "accepted";
    };
    expect(refused({ bankCode: "NOPE" })).toBe("bank_code");
    expect(refused({ usage: "MULTI" })).toBe("number_suffix");
    expect(refused({ numberSuffix: "12" })).toBe("number_suffix");
    expect(refused({ expiresAt: new Date(NOW.getTime() + 60_000) })).toBe("expires_at");
  });

  it("cleans a payer's name into Winpay's 5-24 characters instead of refusing it", () => {
    expect(winpayVirtualAccountName("Li")).toBe("Customer Li");
    expect(winpayVirtualAccountName("Ñoño  O'Brien & Sons")).toBe("o o O Brien Sons");
    expect(winpayVirtualAccountName("A".repeat(40))).toHaveLength(24);
  });
});

describe("readPaymentCallback", () => {
  it("reads a callback into a notification keyed by contract and referenceNo, exact to the rupiah", () => {
    const reading = readPaymentCallback(
      callback({ paidAmount: { value: "999999999999.00", currency: "IDR" } }, { feeAmount: "2500" }),
    );
    if (!reading.ok) throw new Error(`unreadable: ${JSON.stringify(reading)}`);
    expect(toPaymentNotification(reading.payment, "170041", "{raw}", NOW)).toEqual({
      providerAccount: "170041",
      providerPaymentRef: "ci-1:ref-77",
      vaNumber: "2269100000000001",
      amount: 999_999_999_999n,
      fee: 2_500n,
      paidAt: new Date("2026-06-01T08:30:00Z"),
      rawPayload: "{raw}",
      providerVaId: "ci-1",
    });
  });

  it("takes Winpay's loose sample forms: a whole-rupiah string, a numeric referenceNo, the fee from the net", () => {
    const reading = readPaymentCallback(
      callback({ paidAmount: { value: "10000", currency: "IDR" }, referenceNo: 123456 }, { nettAmount: "7500" }),
    );
    expect(reading).toMatchObject({ ok: true, payment: { amount: 10_000n, fee: 2_500n, referenceNo: "123456" } });
  });

  it("falls back to the payment request id when the callback names no referenceNo, and to the receipt time", () => {
    const reading = readPaymentCallback(callback({ referenceNo: undefined, trxDateTime: undefined }));
    if (!reading.ok) throw new Error("unreadable");
    expect(toPaymentNotification(reading.payment, "170041", "", NOW)).toMatchObject({
      providerPaymentRef: "ci-1:req-pr-1",
      paidAt: NOW,
    });
  });

  it("refuses fractions of a rupiah, floats, other currencies and a fee above the amount", () => {
    expect(readPaymentCallback(callback({ paidAmount: { value: "10000.50", currency: "IDR" } }))).toEqual({
      ok: false,
      problem: "format",
      field: "paidAmount",
    });
    expect(readPaymentCallback(callback({ paidAmount: { value: 10000, currency: "IDR" } }))).toMatchObject({
      field: "paidAmount",
    });
    expect(readPaymentCallback(callback({ paidAmount: { value: "10000.00", currency: "USD" } }))).toMatchObject({
      field: "paidAmount",
    });
    expect(readPaymentCallback(callback({}, { feeAmount: "25001" }))).toMatchObject({ field: "additionalInfo.feeAmount" });
    expect(readPaymentCallback(callback({}, { contractId: undefined }))).toEqual({
      ok: false,
      problem: "missing",
      field: "additionalInfo.contractId",
    });
    expect(readPaymentCallback(Buffer.from("not json"))).toEqual({ ok: false, problem: "unreadable" });
  });
});
