import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * DOKU's non-SNAP request signature (reference §4.3), used for our requests to DOKU and for DOKU's
 * HTTP notifications to us:
 *
 *   Digest    = base64(SHA-256(body bytes))
 *   component = "Client-Id:…\nRequest-Id:…\nRequest-Timestamp:…\nRequest-Target:…\nDigest:…"
 *   Signature = "HMACSHA256=" + base64(HMAC-SHA256(secret key, component))
 *
 * A GET (check status) has no body and no Digest line, and no trailing newline either (DOKU's
 * "Signature Generation for GET Method"; the official WooCommerce plugin's generateSignatureCheckStatus).
 */

export interface SignedRequestParts {
  clientId: string;
  requestId: string;
  requestTimestamp: string;
  /** The path only: DOKU's endpoint path, or for a notification the path of our notification URL. */
  requestTarget: string;
  /** The exact bytes sent or received; undefined for a GET, which signs no Digest. */
  body: string | Buffer | undefined;
}

const SCHEME = "HMACSHA256=";

/**
 * Our choice, DOKU publishes none: a notification this close to our clock is believed on its face;
 * an older one (DOKU retries 30 min, 6 h and 12 h later) is confirmed through check status first.
 */
const MAX_CLOCK_SKEW_MS = 300_000;

export function bodyDigest(body: string | Buffer): string {
  return createHash("sha256").update(body).digest("base64");
}

export function signatureComponent(parts: SignedRequestParts): string {
  const lines = [
    `Client-Id:${parts.clientId}`,
    `Request-Id:${parts.requestId}`,
    `Request-Timestamp:${parts.requestTimestamp}`,
    `Request-Target:${parts.requestTarget}`,
  ];
  if (parts.body !== undefined) lines.push(`Digest:${bodyDigest(parts.body)}`);
  return lines.join("\n");
}

/** The `Signature` header value. */
export function signRequest(parts: SignedRequestParts, secretKey: string): string {
  return SCHEME + createHmac("sha256", secretKey).update(signatureComponent(parts)).digest("base64");
}

/** Constant-time comparison of a received `Signature` header with the one the parts call for. */
export function hasValidSignature(signatureHeader: string | undefined, parts: SignedRequestParts, secretKey: string): boolean {
  if (signatureHeader === undefined) return false;
  const expected = Buffer.from(signRequest(parts, secretKey));
  const received = Buffer.from(signatureHeader);
  return received.length === expected.length && timingSafeEqual(received, expected);
}

/** `Request-Timestamp` as DOKU writes it: UTC to the second, e.g. `2020-08-11T08:45:42Z`. */
export function dokuTimestamp(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

const UTC_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Reads a `Request-Timestamp`; also takes milliseconds, never a local time. */
export function parseDokuTimestamp(text: string): Date | undefined {
  if (!UTC_TIMESTAMP.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

export function isWithinClockSkew(timestamp: Date, now: Date): boolean {
  return Math.abs(now.getTime() - timestamp.getTime()) <= MAX_CLOCK_SKEW_MS;
}

export const MAX_CLOCK_SKEW_SECONDS = MAX_CLOCK_SKEW_MS / 1000;
