import { describe, expect, it } from "vitest";
import { decodePageToken, encodePageToken } from "../../../src/app/page-token.js";

const position = { createdAt: new Date("2026-06-01T08:00:00.123Z"), id: "va_01J0000000000000000000000" };
const query = { tenantId: "alpha", statuses: ["ACTIVE"] };

describe("page tokens", () => {
  it("round-trip the position for the same query, as an opaque URL-safe string", () => {
    const token = encodePageToken(position, query);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, { ...query })).toEqual(position);
  });

  it("are refused for other filters or another tenant", () => {
    const token = encodePageToken(position, query);
    for (const other of [
      { ...query, statuses: ["PAID"] },
      { ...query, tenantId: "beta" },
    ]) {
      expect(() => decodePageToken(token, other)).toThrow(
        expect.objectContaining({ kind: "INVALID_ARGUMENT", facts: { field: "page_token" } }),
      );
    }
  });

  it.each([
    ["not base64url", "a+b/c="],
    ["not JSON", Buffer.from("nope").toString("base64url")],
    ["JSON of the wrong shape", Buffer.from(JSON.stringify({ t: "x", i: 1, f: 2 })).toString("base64url")],
    ["an unsafe time", Buffer.from(JSON.stringify({ t: 2 ** 60, i: "va", f: "x" })).toString("base64url")],
  ])("are refused when %s", (_why, token) => {
    expect(() => decodePageToken(token, query)).toThrow(/page_token|page token/);
  });
});
