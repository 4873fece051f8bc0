import { MAX_RUPIAH, parseRupiah, type Rupiah } from "../../domain/money.js";
import {
  AYOCONNECT_BANKS,
  AYOCONNECT_MAX_EXPIRES_IN_MINUTES,
  type AyoconnectBank,
} from "../../providers/ayoconnect/capabilities.js";
import { jsonObject } from "../../providers/shared/wire-helpers.js";

/**
 * Field checks of the Ayoconnect simulator. A failed check throws a Refusal: the error item Ayoconnect
 * would answer (`{code, message, details}` with a code of its error table and `details` starting with
 * the wire field) and the HTTP status it comes with.
 */

export type ErrorItem = { code: string; message: string; details: string };

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  "4007300": "Bad Request",
  "4007302": "Invalid Mandatory Field",
  "4002400": "Bad Request",
  "4002401": "Invalid Field Format",
  "4002402": "Invalid Mandatory Field",
  "4012401": "Invalid Token",
  "4017300": "Unauthorized",
  "4042412": "Invalid Bill or VA",
  "4042413": "Invalid Amount",
  "4042414": "Paid Bill",
  "4042519": "VA Expired",
  "4092400": "External ID Conflict",
};

/** What Ayoconnect would answer instead: 401 for token trouble, 503 for everything else. */
export class Refusal extends Error {
  constructor(
    readonly item: ErrorItem,
    readonly httpStatus: number,
  ) {
    super(`${item.code} ${item.details}`);
  }
}

export const refusal = (code: string, details: string, httpStatus = 503) =>
  new Refusal({ code, message: DESCRIPTIONS[code] ?? code, details }, httpStatus);

export function requiredText(value: unknown, field: string): string {
  if (value === undefined || value === null || value === "") throw refusal("4002402", `${field}: is mandatory`);
  if (typeof value !== "string") throw refusal("4002401", `${field}: must be a string`);
  return value;
}

export function checkedName(value: unknown): string {
  const name = requiredText(value, "virtualAccountName");
  if (name.trim() === "" || name.length > 100) throw refusal("4002401", "virtualAccountName: must be 1-100 characters");
  return name;
}

export function checkedPhone(value: unknown): string {
  const phone = requiredText(value, "virtualAccountPhone");
  if (!/^62[0-9]{9,13}$/.test(phone)) throw refusal("4002401", "virtualAccountPhone: must be 62 followed by 9-13 digits");
  return phone;
}

export function bankOf(value: unknown): AyoconnectBank {
  const code = requiredText(value, "bankCode");
  const bank = AYOCONNECT_BANKS.find((b) => b.ayoconnectCode === code);
  if (!bank) throw refusal("4002401", `bankCode: bank ${code} is not supported`);
  return bank;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  const text = requiredText(value, field);
  if (!(allowed as readonly string[]).includes(text)) throw refusal("4002401", `${field}: must be one of ${allowed.join(", ")}`);
  return text as T;
}

export function checkedMoney(value: unknown, field: string): Rupiah {
  const money = jsonObject(value);
  if (!money) throw refusal("4002402", `${field}: is mandatory`);
  const amount = typeof money.value === "string" && /^[0-9]+\.[0-9]{2}$/.test(money.value) ? parseRupiah(money.value) : undefined;
  if (amount === undefined || amount > MAX_RUPIAH || money.currency !== "IDR") {
    throw refusal("4002401", `${field}: must be a whole IDR amount written with two decimals`);
  }
  return amount;
}

export function checkedExpiresIn(value: unknown, least: number): number {
  if (value === undefined) throw refusal("4002402", "expiresIn: is mandatory");
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < least || value > AYOCONNECT_MAX_EXPIRES_IN_MINUTES) {
    throw refusal("4002401", `expiresIn: must be ${least}-${AYOCONNECT_MAX_EXPIRES_IN_MINUTES} minutes`);
  }
  return value;
}
