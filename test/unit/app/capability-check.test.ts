import { describe, expect, it } from "vitest";
import { cancelProblem, capabilityProblem, updateProblem } from "../../../src/app/capability-check.js";
import type { VirtualAccountDraft } from "../../../src/domain/virtual-account.js";
import type { ProviderCapabilities } from "../../../src/providers/capabilities.js";

const NOW = new Date("2026-06-01T08:00:00Z");
const HOUR_MS = 3_600_000;

const capabilities: ProviderCapabilities = {
  provider: "acme",
  banks: [
    {
      bankCode: "BCA",
      combinations: [
        { usage: "SINGLE", amountType: "FIXED" },
        { usage: "MULTI", amountType: "OPEN" },
      ],
      maxSuffixDigits: 4,
      vaNumberDigits: { min: 10, max: 16 },
      minLifetimeMs: HOUR_MS,
      maxLifetimeMs: 48 * HOUR_MS,
      canCancel: true,
      canUpdate: false,
    },
    {
      bankCode: "BRI",
      combinations: [{ usage: "SINGLE", amountType: "FIXED" }],
      maxSuffixDigits: 0,
      vaNumberDigits: { min: 10, max: 16 },
      minLifetimeMs: HOUR_MS,
      maxLifetimeMs: 48 * HOUR_MS,
      canCancel: false,
      canUpdate: true,
    },
  ],
};

const draft = (overrides: Partial<VirtualAccountDraft> = {}): VirtualAccountDraft => ({
  merchantReference: "order-1",
  provider: "",
  bankCode: "BCA",
  usage: "SINGLE",
  amount: { type: "FIXED", amount: 25_000n },
  expiresAt: new Date(NOW.getTime() + 2 * HOUR_MS),
  customer: { name: "Budi", email: "", phone: "" },
  numberSuffix: "",
  description: "",
  ...overrides,
});

const problem = (overrides: Partial<VirtualAccountDraft>) => capabilityProblem(draft(overrides), capabilities, NOW);

describe("capabilityProblem", () => {
  it("finds none in a draft the bank can issue", () => {
    expect(problem({})).toBeUndefined();
    expect(problem({ usage: "MULTI", amount: { type: "OPEN" }, numberSuffix: "1234" })).toBeUndefined();
    expect(problem({ expiresAt: new Date(NOW.getTime() + HOUR_MS) })).toBeUndefined();
    expect(problem({ expiresAt: new Date(NOW.getTime() + 48 * HOUR_MS) })).toBeUndefined();
  });

  it("names the banks when the provider does not serve the bank", () => {
    expect(problem({ bankCode: "MANDIRI" })).toMatchObject({
      kind: "INVALID_ARGUMENT",
      facts: { field: "bank_code" },
      message: expect.stringContaining("acme does not issue VAs at MANDIRI (banks: BCA, BRI)"),
    });
  });

  it("names the supported combinations when the usage and amount type are not one", () => {
    expect(problem({ usage: "MULTI", amount: { type: "FIXED", amount: 1n } })).toMatchObject({
      facts: { field: "amount" },
      message: expect.stringContaining("(supported: SINGLE+FIXED, MULTI+OPEN)"),
    });
  });

  it("refuses a suffix longer than the bank takes, and any suffix where it takes none", () => {
    expect(problem({ numberSuffix: "12345" })?.message).toContain("takes at most 4 suffix digits");
    expect(problem({ bankCode: "BRI", numberSuffix: "1" })?.message).toContain("takes no number suffix");
    expect(problem({ numberSuffix: "12345" })?.facts).toMatchObject({ field: "number_suffix" });
  });

  it("refuses an expiry outside the bank's window, in minutes", () => {
    for (const lifetime of [HOUR_MS - 1, 48 * HOUR_MS + 1]) {
      expect(problem({ expiresAt: new Date(NOW.getTime() + lifetime) })).toMatchObject({
        facts: { field: "expires_at" },
        message: expect.stringContaining("needs an expiry between 60 and 2880 minutes ahead"),
      });
    }
  });
});

describe("updateProblem and cancelProblem", () => {
  it("allow what the bank allows", () => {
    expect(updateProblem(capabilities, "BRI")).toBeUndefined();
    expect(cancelProblem(capabilities, "BCA")).toBeUndefined();
  });

  it("refuse as FAILED_PRECONDITION what the bank (or an unknown bank) does not allow", () => {
    for (const found of [
      updateProblem(capabilities, "BCA"),
      cancelProblem(capabilities, "BRI"),
      cancelProblem(capabilities, "XYZ"),
    ]) {
      expect(found).toMatchObject({ kind: "FAILED_PRECONDITION", facts: { field: "virtual_account_id", provider: "acme" } });
    }
  });
});
