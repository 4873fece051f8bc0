import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/domain/errors.js";
import { InMemoryExternalIdStore } from "../../../src/protocols/snap/external-id-store.js";
import { bearerToken, newExternalId } from "../../../src/protocols/snap/headers.js";
import { parseSnapMoney, toSnapMoney } from "../../../src/protocols/snap/money.js";
import { fieldNamedIn, readSnapAnswer, snapErrorKind } from "../../../src/protocols/snap/provider-answer.js";
import { formatSnapResponseCode, parseSnapResponseCode, SnapOutcomes } from "../../../src/protocols/snap/response-code.js";
import { formatSnapTimestamp, jakartaDay, parseSnapTimestamp } from "../../../src/protocols/snap/timestamp.js";
import {
  composeVirtualAccountNo,
  padPartnerServiceId,
  payerDigits,
  splitVirtualAccountNo,
} from "../../../src/protocols/snap/va-number.js";

describe("X-TIMESTAMP", () => {
  it("is Jakarta time, +07:00, no milliseconds, 25 characters", () => {
    const text = formatSnapTimestamp(new Date("2020-12-17T03:55:00.987Z"));
    expect(text).toBe("2020-12-17T10:55:00+07:00");
    expect(text).toHaveLength(25);
    expect(formatSnapTimestamp(new Date("2023-12-31T17:00:00Z"))).toBe("2024-01-01T00:00:00+07:00");
  });

  it("parses offsets and milliseconds, and refuses impossible or offset-less times", () => {
    expect(parseSnapTimestamp("2020-12-17T10:55:00+07:00")?.toISOString()).toBe("2020-12-17T03:55:00.000Z");
    expect(parseSnapTimestamp("2024-03-01T08:27:49.024Z")?.toISOString()).toBe("2024-03-01T08:27:49.024Z");
    expect(parseSnapTimestamp("2009-07-03T12:08:56-07:00")?.toISOString()).toBe("2009-07-03T19:08:56.000Z");
    for (const bad of ["2024-02-30T10:00:00+07:00", "2024-01-01T24:00:00+07:00", "2024-01-01T10:00:00", "20201231T235959Z"]) {
      expect(parseSnapTimestamp(bad)).toBeUndefined();
    }
  });

  it("names the Jakarta day", () => {
    expect(jakartaDay(new Date("2024-01-10T17:30:00Z"))).toBe("2024-01-11");
  });
});

describe("X-EXTERNAL-ID", () => {
  it("is numeric, at most 36 characters and unique", () => {
    const ids = Array.from({ length: 1_000 }, () => newExternalId());
    for (const id of ids) expect(id).toMatch(/^\d{1,36}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("is refused when reused by the same partner on the same day only", async () => {
    const store = new InMemoryExternalIdStore();
    expect(await store.claim("P1", "2025-06-01", "123")).toBe(true);
    expect(await store.claim("P1", "2025-06-01", "123")).toBe(false);
    expect(await store.claim("P2", "2025-06-01", "123")).toBe(true);
    expect(await store.claim("P1", "2025-06-02", "123")).toBe(true);
  });

  it("reads bearer tokens", () => {
    expect(bearerToken("Bearer abc.def")).toBe("abc.def");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe("response codes", () => {
  it("format and parse HTTP status + service + case", () => {
    expect(formatSnapResponseCode(SnapOutcomes.successful, "27")).toBe("2002700");
    expect(formatSnapResponseCode(SnapOutcomes.unauthorized, "27")).toBe("4012700");
    expect(formatSnapResponseCode(SnapOutcomes.duplicateReference, "27")).toBe("4092701");
    expect(parseSnapResponseCode("4092701")).toEqual({ httpStatus: 409, serviceCode: "27", caseCode: "01" });
    expect(parseSnapResponseCode(2002500)).toEqual({ httpStatus: 200, serviceCode: "25", caseCode: "00" });
    expect(parseSnapResponseCode("200270")).toBeUndefined();
  });

  it("map to our error kinds", () => {
    const kind = (code: string) => {
      const parsed = parseSnapResponseCode(code);
      if (!parsed) throw new Error(code);
      return snapErrorKind(parsed);
    };
    expect(kind("4002701")).toBe("INVALID_ARGUMENT");
    expect(kind("4012700")).toBe("INTERNAL");
    expect(kind("4043101")).toBe("NOT_FOUND");
    expect(kind("4042514")).toBe("FAILED_PRECONDITION");
    expect(kind("4042716")).toBe("INTERNAL");
    expect(kind("4092700")).toBe("ABORTED");
    expect(kind("4092701")).toBe("ALREADY_EXISTS");
    expect(kind("5002700")).toBe("UNAVAILABLE");
    expect(kind("5042700")).toBe("DEADLINE_EXCEEDED");
  });

  it("find the field a 400xx01/02 message names", () => {
    expect(fieldNamedIn("Invalid Field Format {expiredDate}")).toBe("expiredDate");
    expect(fieldNamedIn("Invalid Mandatory Field totalAmount.value")).toBe("totalAmount.value");
    expect(fieldNamedIn("Unauthorized. Invalid Signature")).toBeUndefined();
  });

  it("turn a refusal into a DomainError keeping the raw code and message", () => {
    const response = {
      status: 400,
      headers: new Headers(),
      text: '{"responseCode":"4002701","responseMessage":"Invalid Field Format {expiredDate}"}',
    };
    const error = (() => {
      try {
        readSnapAnswer("winpay", response, (field) => (field === "expiredDate" ? "expires_at" : undefined));
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({
      kind: "INVALID_ARGUMENT",
      facts: {
        field: "expires_at",
        provider: "winpay",
        providerCode: "4002701",
        providerMessage: "Invalid Field Format {expiredDate}",
      },
    });
  });

  it("treat a 5xx without a SNAP body, or a success code under an error status, as UNAVAILABLE", () => {
    const gateway = { status: 502, headers: new Headers(), text: "<html>Bad Gateway</html>" };
    expect(() => readSnapAnswer("winpay", gateway)).toThrow(expect.objectContaining({ kind: "UNAVAILABLE" }));
    const odd = { status: 500, headers: new Headers(), text: '{"responseCode":"2002700","accessToken":"secret"}' };
    const error = (() => {
      try {
        readSnapAnswer("bank", odd);
      } catch (caught) {
        return caught as DomainError;
      }
    })();
    expect(error?.kind).toBe("UNAVAILABLE");
    expect(JSON.stringify(error?.facts)).not.toContain("secret");
  });
});

describe("money", () => {
  it("writes two decimals and reads whole rupiah exactly", () => {
    expect(toSnapMoney(25_000n)).toEqual({ value: "25000.00", currency: "IDR" });
    expect(toSnapMoney(999_999_999_999n).value).toBe("999999999999.00");
    expect(parseSnapMoney({ value: "25000.00", currency: "IDR" })).toBe(25_000n);
    expect(parseSnapMoney({ value: "10000", currency: "IDR" })).toBe(10_000n);
    expect(parseSnapMoney({ value: "999999999999999.00", currency: "IDR" })).toBe(999_999_999_999_999n);
  });

  it("refuses fractions of a rupiah, other currencies and numbers", () => {
    expect(parseSnapMoney({ value: "10000.50", currency: "IDR" })).toBeUndefined();
    expect(parseSnapMoney({ value: "10000.00", currency: "USD" })).toBeUndefined();
    expect(parseSnapMoney({ value: 10000, currency: "IDR" })).toBeUndefined();
    expect(parseSnapMoney({ value: "-1.00", currency: "IDR" })).toBeUndefined();
    expect(parseSnapMoney("10000.00")).toBeUndefined();
  });
});

describe("VA numbers", () => {
  it("pad partnerServiceId to 8 characters with spaces and compose byte for byte", () => {
    expect(padPartnerServiceId("22691")).toBe("   22691");
    expect(padPartnerServiceId("9042")).toBe("    9042");
    expect(composeVirtualAccountNo("    9042", "00000009")).toBe("    904200000009");
    expect(() => composeVirtualAccountNo(" 9042", "00000009")).toThrow(RangeError);
    expect(() => padPartnerServiceId("123456789")).toThrow(RangeError);
  });

  it("split back and give the digits a payer types", () => {
    expect(splitVirtualAccountNo("   2269141693898987")).toEqual({ partnerServiceId: "   22691", customerNo: "41693898987" });
    // Collapsed padding splits at the wrong place: why the spaces are kept byte for byte.
    expect(splitVirtualAccountNo(" 2269141693898987")?.partnerServiceId).toBe(" 2269141");
    expect(splitVirtualAccountNo("   22691")).toBeUndefined();
    expect(splitVirtualAccountNo("   22691-1693898987")).toBeUndefined();
    expect(payerDigits("   2269141693898987")).toBe("2269141693898987");
  });
});
