import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { formatRupiah2, parseRupiah } from "../../src/domain/money.js";
import { applyPayment } from "../../src/domain/payment.js";
import {
  type AmountRule,
  cancelTransition,
  checkDraft,
  checkVaNumber,
  isDue,
  type VaStatus,
  type VirtualAccount,
} from "../../src/domain/virtual-account.js";

const NOW = new Date("2026-11-25T10:00:00Z");

function va(overrides: Partial<VirtualAccount> = {}): VirtualAccount {
  return {
    id: "va_1",
    tenantId: "t",
    merchantReference: "order-1",
    provider: "sandbox",
    providerAccount: "M",
    providerReference: "p1",
    providerVaId: undefined,
    bankCode: "BCA",
    vaNumber: "1234567890",
    usage: "SINGLE",
    amount: { type: "FIXED", amount: 25_000n },
    status: "ACTIVE",
    expiresAt: new Date(NOW.getTime() + 3_600_000),
    customer: { name: "Budi", email: "", phone: "" },
    description: "",
    paidAmount: 0n,
    paymentCount: 0,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

const draft = (amount: AmountRule, expiresAt?: Date) => ({
  merchantReference: "o",
  provider: "sandbox",
  bankCode: "BCA",
  usage: "SINGLE" as const,
  amount,
  expiresAt,
  customer: { name: "Budi", email: "", phone: "" },
  numberSuffix: "",
  description: "",
});

const fieldOf = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return error instanceof DomainError ? `${error.kind}:${error.facts.field}` : "other";
  }
  return "none";
};

describe("money", () => {
  it.each([
    ["25000", 25_000n],
    ["25000.00", 25_000n],
    ["25000.0", 25_000n],
    ["0", 0n],
    ["999999999999999", 999_999_999_999_999n],
  ])("reads %s exactly", (text, value) => expect(parseRupiah(text)).toBe(value));

  it.each(["25000.50", "25000.01", "-1", "1e5", "", " 1", "01", "25,000", "25000.", "Infinity", "0x10"])(
    "refuses %j rather than rounding",
    (text) => expect(parseRupiah(text)).toBeUndefined(),
  );

  it("formats SNAP two-decimal strings", () => expect(formatRupiah2(25_000n)).toBe("25000.00"));
});

describe("drafts", () => {
  it("defaults expiry to 24 hours", () => {
    expect(checkDraft(draft({ type: "OPEN" }), NOW).expiresAt.getTime() - NOW.getTime()).toBe(24 * 3_600_000);
  });

  it.each([
    [{ type: "FIXED", amount: 0n } as AmountRule, "INVALID_ARGUMENT:amount.fixed.amount"],
    [{ type: "FIXED", amount: 1_000_000_000_000n } as AmountRule, "INVALID_ARGUMENT:amount.fixed.amount"],
    [{ type: "RANGE", min: 10n, max: 10n } as AmountRule, "INVALID_ARGUMENT:amount.range"],
    [{ type: "RANGE", min: 0n, max: 10n } as AmountRule, "INVALID_ARGUMENT:amount.range.min"],
  ])("refuses amount rule %o", (rule, expected) => expect(fieldOf(() => checkDraft(draft(rule), NOW))).toBe(expected));

  it.each([
    [59_000, "INVALID_ARGUMENT:expires_at"],
    [60_000, "none"],
    [90 * 24 * 3_600_000, "none"],
    [90 * 24 * 3_600_000 + 1, "INVALID_ARGUMENT:expires_at"],
    [-1, "INVALID_ARGUMENT:expires_at"],
  ])("expiry %i ms ahead → %s", (ms, expected) =>
    expect(fieldOf(() => checkDraft(draft({ type: "OPEN" }, new Date(NOW.getTime() + ms)), NOW))).toBe(expected),
  );

  it("VA numbers: digits only, at most 23", () => {
    expect(fieldOf(() => checkVaNumber("12345678901234567890123"))).toBe("none");
    expect(fieldOf(() => checkVaNumber("123456789012345678901234"))).toBe("INTERNAL:undefined");
    expect(fieldOf(() => checkVaNumber("12 34"))).toBe("INTERNAL:undefined");
  });
});

describe("payments", () => {
  it.each([
    [{ type: "FIXED", amount: 25_000n }, 25_000n, "ACCEPTED", "COMPLETED", 25_000n],
    [{ type: "FIXED", amount: 25_000n }, 24_999n, "UNDERPAID", "ACTIVE", 0n],
    [{ type: "FIXED", amount: 25_000n }, 25_001n, "OVERPAID", "COMPLETED", 25_001n],
    [{ type: "RANGE", min: 10_000n, max: 50_000n }, 9_999n, "UNDERPAID", "ACTIVE", 0n],
    [{ type: "RANGE", min: 10_000n, max: 50_000n }, 50_000n, "ACCEPTED", "COMPLETED", 50_000n],
    [{ type: "RANGE", min: 10_000n, max: 50_000n }, 50_001n, "OVERPAID", "COMPLETED", 50_001n],
    [{ type: "OPEN" }, 1n, "ACCEPTED", "COMPLETED", 1n],
  ] as const)("single-use %o paid %s → %s", (amount, paid, outcome, status, total) => {
    const effect = applyPayment(va({ amount: amount as AmountRule }), paid, NOW);
    expect(effect).toEqual({ outcome, status, paidAmount: total, paymentCount: 1 });
  });

  it("multi-use stays open and adds up", () => {
    const first = applyPayment(va({ usage: "MULTI", amount: { type: "OPEN" } }), 10_000n, NOW);
    const second = applyPayment(
      va({ usage: "MULTI", amount: { type: "OPEN" }, status: first.status, paidAmount: first.paidAmount, paymentCount: 1 }),
      15_000n,
      NOW,
    );
    expect(second).toEqual({ outcome: "ACCEPTED", status: "PAID", paidAmount: 25_000n, paymentCount: 2 });
  });

  it.each<VaStatus>(["CANCELLED", "EXPIRED"])("money into a %s VA is LATE and changes nothing but the count", (status) => {
    expect(applyPayment(va({ status }), 25_000n, NOW)).toEqual({ outcome: "LATE", status, paidAmount: 0n, paymentCount: 1 });
  });

  it("paid after the expiry instant is LATE even before the sweeper ran", () => {
    expect(applyPayment(va(), 25_000n, new Date(NOW.getTime() + 3_600_001)).outcome).toBe("LATE");
  });

  it("a second payment into a completed single-use VA is REPEATED", () => {
    expect(applyPayment(va({ status: "COMPLETED", paidAmount: 25_000n, paymentCount: 1 }), 25_000n, NOW)).toEqual({
      outcome: "REPEATED",
      status: "COMPLETED",
      paidAmount: 25_000n,
      paymentCount: 2,
    });
  });
});

describe("state machine", () => {
  it.each<[VaStatus, string]>([
    ["ACTIVE", "CANCEL"],
    ["INQUIRED", "CANCEL"],
    ["PAID", "CANCEL"],
    ["CANCELLED", "ALREADY_CANCELLED"],
    ["COMPLETED", "FAILED_PRECONDITION"],
    ["EXPIRED", "FAILED_PRECONDITION"],
  ])("cancel from %s → %s", (status, expected) => {
    let result: string;
    try {
      result = cancelTransition(va({ status }));
    } catch (error) {
      result = (error as DomainError).kind;
    }
    expect(result).toBe(expected);
  });

  it("is due exactly at expiry, and only while open", () => {
    const at = new Date(NOW.getTime() + 3_600_000);
    expect(isDue(va(), at)).toBe(true);
    expect(isDue(va(), new Date(at.getTime() - 1))).toBe(false);
    expect(isDue(va({ status: "COMPLETED" }), at)).toBe(false);
  });
});
