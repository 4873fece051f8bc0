import { randomInt } from "node:crypto";

/** SNAP header names, lower-case as `InboundHttpRequest.headers` carries them. */
export const SnapHeader = {
  timestamp: "x-timestamp",
  signature: "x-signature",
  partnerId: "x-partner-id",
  externalId: "x-external-id",
  channelId: "channel-id",
  clientKey: "x-client-key",
  authorization: "authorization",
} as const;

/** The per-request headers of a signed SNAP transaction call (B2B). */
export interface SnapTransactionHeaders {
  timestamp: string;
  signature: string;
  partnerId: string;
  externalId: string;
  channelId: string;
  /** Only for the symmetric (token) signature. */
  accessToken?: string;
}

/** Outbound header set, spelled the way the standard prints it. */
export function snapTransactionHeaders(headers: SnapTransactionHeaders): Record<string, string> {
  return {
    "X-TIMESTAMP": headers.timestamp,
    "X-SIGNATURE": headers.signature,
    "X-PARTNER-ID": headers.partnerId,
    "X-EXTERNAL-ID": headers.externalId,
    "CHANNEL-ID": headers.channelId,
    ...(headers.accessToken === undefined ? {} : { Authorization: `Bearer ${headers.accessToken}` }),
  };
}

let sequence = 0;

/**
 * A fresh X-EXTERNAL-ID: a numeric string (max 36) unique per partner per day. Milliseconds since
 * the epoch plus a per-process sequence make it unique within this process; 11 random digits keep
 * other processes of the same partner from colliding. 30 digits in all.
 */
export function newExternalId(now: Date = new Date()): string {
  sequence = (sequence + 1) % 1_000_000;
  const random = String(randomInt(0, 100_000_000_000)).padStart(11, "0");
  return `${now.getTime()}${String(sequence).padStart(6, "0")}${random}`;
}

/** `Bearer <token>` → the token; anything else → undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer ([^\s]+)$/i.exec(authorization ?? "");
  return match?.[1];
}
