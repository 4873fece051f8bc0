import { DomainError } from "../../domain/errors.js";
import { parseRupiah, type Rupiah } from "../../domain/money.js";
import type { HttpAnswer } from "../provider.js";

/** Provider-neutral helpers for reading and answering provider wire formats (JSON bodies, amounts). */

/** Whole minutes from now until `expiresAt`, rounded down so a VA never outlives our expiry. */
export function minutesUntil(expiresAt: Date, now: Date): number {
  return Math.floor((expiresAt.getTime() - now.getTime()) / 60_000);
}

/** An HTTP answer with a JSON body (to a provider's callback, or a SNAP answer). */
export function jsonAnswer(status: number, body: unknown): HttpAnswer {
  return { status, contentType: "application/json", body: JSON.stringify(body) };
}

/**
 * Readers for JSON a provider sent us. A shape the adapter did not expect is the provider
 * misbehaving: UNAVAILABLE, naming the path.
 */
export function wireReader(provider: string) {
  const unexpected = (path: string, expected: string) =>
    new DomainError("UNAVAILABLE", `${provider} sent an unexpected body: ${path} is not ${expected}`, { provider });

  const record = (value: unknown, path: string): Record<string, unknown> => {
    const object = jsonObject(value);
    if (!object) throw unexpected(path, "an object");
    return object;
  };

  const text = (value: unknown, path: string): string => {
    if (typeof value !== "string" || value === "") throw unexpected(path, "a non-empty string");
    return value;
  };

  return {
    unexpected,
    record,
    text,
    /** An id we will put in a URL or a query: 1-64 of letters, digits, `_` and `-`. */
    identifier(value: unknown, path: string): string {
      const id = text(value, path);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw unexpected(path, "an identifier (1-64 of A-Z a-z 0-9 _ -)");
      return id;
    },
    list(value: unknown, path: string): unknown[] {
      if (!Array.isArray(value)) throw unexpected(path, "a list");
      return value;
    },
    flag(value: unknown, path: string): boolean {
      if (typeof value !== "boolean") throw unexpected(path, "a boolean");
      return value;
    },
    timestamp(value: unknown, path: string): Date {
      const date = new Date(text(value, path));
      if (Number.isNaN(date.getTime())) throw unexpected(path, "a timestamp");
      return date;
    },
    /** A decimal string such as `"25000"` or `"25000.00"`, read exactly. */
    decimalRupiah(value: unknown, path: string): Rupiah {
      const amount = typeof value === "string" ? parseRupiah(value) : undefined;
      if (amount === undefined) throw unexpected(path, "a whole rupiah decimal string");
      return amount;
    },
  };
}

/** A parsed JSON object (not an array, not null). */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function jsonObject(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

/** Parses bytes or text as a JSON object; anything else (bad JSON, arrays, scalars) is undefined. */
export function parseJsonObject(raw: Buffer | string): Record<string, unknown> | undefined {
  try {
    return jsonObject(JSON.parse(raw.toString()));
  } catch {
    return undefined;
  }
}
