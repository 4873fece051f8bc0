import { MAX_RUPIAH, parseRupiah, type Rupiah } from "../../domain/money.js";
import { DURIANPAY_MAX_EXPIRY_MINUTES } from "../../providers/durianpay/capabilities.js";
import { jsonObject } from "../../providers/shared/wire-helpers.js";

/**
 * Field checks of the Durianpay simulator. Each check records a Durianpay form error
 * (`{field, message}`, the items of a `DPAY_INVALID_REQUEST` answer) instead of throwing, so one answer
 * lists every bad field as Durianpay's does.
 */

export type Body = Record<string, unknown>;
export type FormError = { field: string; message: string };
export type SimulatedCustomer = { id: string; given_name: string; email: string; mobile: string };

export function readCustomer(value: unknown, errors: FormError[], newId: () => string): SimulatedCustomer {
  const customer = jsonObject(value) ?? {};
  const [id, email, mobile, givenName] = ["id", "email", "mobile", "given_name"].map((k) => nonEmptyText(customer[k]));
  if (!id && !email && !mobile) {
    errors.push({ field: "customer", message: "can't be blank needs either ID, Email or Mobile" });
  }
  if (!givenName) errors.push({ field: "customer.given_name", message: "given name cannot be empty" });
  return { id: id ?? newId(), given_name: givenName ?? "", email: email ?? "", mobile: mobile ?? "" };
}

export function optionalFlag(body: Body, field: string, fallback: boolean, errors: FormError[]): boolean {
  const value = body[field];
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  errors.push({ field, message: "must be a boolean" });
  return fallback;
}

export function positiveDecimal(value: unknown, field: string, errors: FormError[]): Rupiah | undefined {
  if (value === undefined || value === "") {
    errors.push({ field, message: "can't be blank" });
    return undefined;
  }
  const amount = typeof value === "string" ? parseRupiah(value) : undefined;
  if (amount === undefined || amount <= 0n || amount > MAX_RUPIAH) {
    errors.push({ field, message: "must be a whole rupiah amount greater than 0" });
    return undefined;
  }
  return amount;
}

export function positiveInteger(value: unknown, field: string, errors: FormError[]): Rupiah | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0 || value > Number(MAX_RUPIAH)) {
    errors.push({ field, message: `must be a whole amount from 1 to ${MAX_RUPIAH}` });
    return undefined;
  }
  return BigInt(value);
}

export function expiryMinutesOf(value: unknown, least: number, errors: FormError[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < least) {
    errors.push({
      field: "expiry_minutes",
      message: least > 0 ? "can't be less than equal to 0" : "can't be negative",
    });
    return undefined;
  }
  if (value > DURIANPAY_MAX_EXPIRY_MINUTES) {
    errors.push({ field: "expiry_minutes", message: `can't be more than ${DURIANPAY_MAX_EXPIRY_MINUTES}` });
    return undefined;
  }
  return value;
}

export function nonEmptyText(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}
