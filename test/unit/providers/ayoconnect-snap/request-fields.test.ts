import { describe, expect, it } from "vitest";
import { DomainError } from "../../../../src/domain/errors.js";
import { readSnapAnswer } from "../../../../src/protocols/snap/provider-answer.js";
import { requestFieldOf } from "../../../../src/providers/ayoconnect-snap/transformers.js";
import { AYOCONNECT_SNAP } from "../../../../src/providers/ayoconnect-snap/wire.js";

/** Ayoconnect's field names in `400xx01/02` refusals, as our request's fields. */

const refusalNaming = (field: string): DomainError => {
  const text = JSON.stringify({ responseCode: "4002702", responseMessage: `Invalid Mandatory Field {${field}}` });
  try {
    readSnapAnswer(AYOCONNECT_SNAP, { status: 400, text }, requestFieldOf);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("the refusal was read as a success");
};

describe("Ayoconnect SNAP request fields", () => {
  it("names our request's field for a field Ayoconnect names", () => {
    expect(refusalNaming("expiredDate").facts.field).toBe("expires_at");
    expect(refusalNaming("totalAmount.value").facts.field).toBe("amount");
  });

  it("names no field for one it does not know, even one every object has (`constructor`)", () => {
    expect(requestFieldOf("constructor")).toBeUndefined();
    expect(refusalNaming("constructor").facts).not.toHaveProperty("field");
    expect(refusalNaming("toString").facts).not.toHaveProperty("field");
  });
});
