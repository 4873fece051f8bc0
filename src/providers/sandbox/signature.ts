import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** The sandbox's secrets on the wire: the API key header on requests and the callback signature. */

export const TIMESTAMP_HEADER = "X-Sandbox-Timestamp";
export const SIGNATURE_HEADER = "X-Sandbox-Signature";

const SIGNATURE_FORMAT = /^v1=([0-9a-f]{64})$/;
/** Unix seconds, as the sandbox writes them. */
const TIMESTAMP_FORMAT = /^[0-9]{1,12}$/;

/** HTTP Basic with the API key as user name and an empty password. */
export function apiKeyAuthorization(apiKey: string): string {
  return `Basic ${Buffer.from(`${apiKey}:`).toString("base64")}`;
}

/** Compares two secrets in constant time, without revealing through timing whether the lengths differ. */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

export const isTimestampHeader = (value: string | undefined): value is string =>
  value !== undefined && TIMESTAMP_FORMAT.test(value);
export const isSignatureHeader = (value: string | undefined): value is string =>
  value !== undefined && SIGNATURE_FORMAT.test(value);

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. */
export function signCallback(webhookSecret: string, timestamp: string, rawBody: string | Buffer): string {
  return `v1=${callbackMac(webhookSecret, timestamp, rawBody).toString("hex")}`;
}

/** Checks a signature header against the exact bytes received. */
export function callbackSignatureMatches(
  webhookSecret: string,
  timestamp: string,
  rawBody: Buffer,
  signatureHeader: string,
): boolean {
  const hex = SIGNATURE_FORMAT.exec(signatureHeader)?.[1];
  if (hex === undefined) return false;
  return timingSafeEqual(Buffer.from(hex, "hex"), callbackMac(webhookSecret, timestamp, rawBody));
}

function callbackMac(webhookSecret: string, timestamp: string, rawBody: string | Buffer): Buffer {
  return createHmac("sha256", webhookSecret).update(`${timestamp}.`).update(rawBody).digest();
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
