import { createHash } from "node:crypto";
import { MAX_VA_DIGITS } from "../../domain/virtual-account.js";
import { refusedLocally } from "./transformers.js";

/**
 * DOKU's BIN rules for merchant-generated numbers (seed 001): a Direct BIN (the acquirer's) has 5
 * digits and leaves 18 free digits; a DOKU Exclusive BIN has 9 digits or more and leaves at most 14.
 * Either way a VA number has at most 23 digits.
 */
const DIRECT_BIN_DIGITS = 5;
const MIN_EXCLUSIVE_BIN_DIGITS = 9;

export function isMerchantBin(bin: string): boolean {
  if (!/^[0-9]+$/.test(bin)) return false;
  return bin.length === DIRECT_BIN_DIGITS || (bin.length >= MIN_EXCLUSIVE_BIN_DIGITS && bin.length < MAX_VA_DIGITS);
}

export const freeDigitsAfter = (bin: string) => MAX_VA_DIGITS - bin.length;

/**
 * With no suffix asked for, we pick 10 digits after the BIN (as long as DOKU's own codes), derived
 * from the external id so that a retried create asks for the same number.
 */
const DERIVED_DIGITS = 10;

export function merchantVaNumber(bin: string, suffix: string, externalId: string): string {
  const free = suffix === "" ? derivedDigits(externalId, Math.min(DERIVED_DIGITS, freeDigitsAfter(bin))) : suffix;
  if (!/^[0-9]+$/.test(free)) throw refusedLocally("number_suffix", "must contain digits only");
  if (bin.length + free.length > MAX_VA_DIGITS) {
    throw refusedLocally(
      "number_suffix",
      `at most ${freeDigitsAfter(bin)} digits fit after BIN ${bin}: DOKU numbers have at most ${MAX_VA_DIGITS} digits`,
    );
  }
  return bin + free;
}

function derivedDigits(externalId: string, count: number): string {
  const hash = BigInt(`0x${createHash("sha256").update(externalId).digest("hex")}`);
  return (hash % 10n ** BigInt(count)).toString().padStart(count, "0");
}
