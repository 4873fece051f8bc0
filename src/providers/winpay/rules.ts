import type { Rupiah } from "../../domain/money.js";
import { JAKARTA_OFFSET_MS } from "../../protocols/snap/timestamp.js";
import type { WinpayVaType } from "./wire.js";

/**
 * Winpay's published limits (seed 003), shared by the adapter, which checks what it can before
 * calling, and the simulator, which enforces them like Winpay does.
 */

/** Channel matrix of seed 003: which VA types each channel supports. */
export const WINPAY_CHANNEL_TYPES: Readonly<Record<string, readonly WinpayVaType[]>> = {
  BRI: ["c"],
  BNI: ["c"],
  MANDIRI: ["c"],
  PERMATA: ["c", "o", "r"],
  BSI: ["c", "o", "r"],
  MUAMALAT: ["c", "o", "r"],
  BCA: ["c", "o", "r"],
  CIMB: ["c", "o", "r"],
  SINARMAS: ["c", "o", "r"],
  BNC: ["c", "o", "r"],
  INDOMARET: ["c"],
  ALFAMART: ["c"],
};

export const channelSupports = (channel: string, type: WinpayVaType) =>
  Object.hasOwn(WINPAY_CHANNEL_TYPES, channel) && (WINPAY_CHANNEL_TYPES[channel] ?? []).includes(type);

export const CUSTOMER_NO_DIGITS = { min: 3, max: 14 } as const;
/** 3-14 digits. */
export const CUSTOMER_NO = new RegExp(`^\\d{${CUSTOMER_NO_DIGITS.min},${CUSTOMER_NO_DIGITS.max}}$`);
/** 5-24 letters, digits, `_`, `-` and spaces. */
export const VA_NAME = /^[A-Za-z0-9_\- ]{5,24}$/;
export const VA_NAME_MIN = 5;
export const VA_NAME_MAX = 24;
/** 5-50 letters, digits, `_` and `-`. */
export const TRX_ID = /^[A-Za-z0-9_-]{5,50}$/;
/** `totalAmount.value` is at most 14 characters: `99999999999.00`. */
export const AMOUNT_VALUE = /^\d{1,11}(\.\d{2})?$/;
export const MAX_WINPAY_AMOUNT: Rupiah = 99_999_999_999n;
/** `YYYY-MM-DDTHH:mm:ss+07:00`. */
export const EXPIRED_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/;

/** Expiry must be more than this far after the request… */
export const MIN_EXPIRY_MS = 60_000;

/** …and at most 3 calendar months after it (Jakarta calendar; Jan 31 + 3 months = Apr 30). */
export function latestExpiry(requestedAt: Date): Date {
  const wallClock = new Date(requestedAt.getTime() + JAKARTA_OFFSET_MS);
  const year = wallClock.getUTCFullYear();
  const month = wallClock.getUTCMonth() + 3;
  const lastDayOfTargetMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const target = new Date(wallClock);
  target.setUTCFullYear(year, month, Math.min(wallClock.getUTCDate(), lastDayOfTargetMonth));
  return new Date(target.getTime() - JAKARTA_OFFSET_MS);
}
