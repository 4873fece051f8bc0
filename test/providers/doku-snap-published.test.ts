import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { toCreateVaRequest } from "../../src/providers/doku-snap/transformers.js";
import { shapeProblems } from "../support/json-shape.js";
import { createRequestBuilder } from "../support/provider-harness.js";

/** DOKU's published samples (test/fixtures/doku-snap/SOURCES.md) against what we send. */

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/doku-snap/${name}`, import.meta.url), "utf8"));

describe("DOKU SNAP published samples", () => {
  const request = createRequestBuilder(() => ({
    amount: { type: "FIXED", amount: 11_500n },
    customer: { name: "Customer Name", email: "customer.email@mail.com", phone: "0816291271826" },
  }));

  it("our MGPC create-va has the shape of the API reference's sample", () => {
    const sample = fixture("api-reference.create-va-mgpc.request.json");
    const ours = toCreateVaRequest(request({ numberSuffix: "00000000000000000001".slice(-18) }), {
      mode: "MGPC",
      bin: "19008",
      now: new Date(),
    });
    // freeText is optional (we send none); virtualAccountConfig (reusableStatus) is the SDK's, absent from the sample.
    expect(shapeProblems(ours, sample, { exempt: ["freeText", "additionalInfo.virtualAccountConfig"] })).toEqual([]);
    expect(ours.partnerServiceId).toBe((sample as { partnerServiceId: string }).partnerServiceId);
    expect(ours.virtualAccountNo).toBe(`   19008${"0".repeat(17)}1`);
    expect(ours.totalAmount).toEqual((sample as { totalAmount: unknown }).totalAmount);
  });
});
