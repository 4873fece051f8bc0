import { randomUUID } from "node:crypto";

/** Header that carries a request id in both directions (RPCs and webhooks). */
export const REQUEST_ID_HEADER = "x-request-id";

const ACCEPTABLE = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/**
 * The caller's `x-request-id` when it is a sane token (so it cannot forge log lines or blow up
 * log volume), otherwise a fresh UUID.
 */
export function requestIdFrom(header: string | string[] | null | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && value !== null && ACCEPTABLE.test(value) ? value : randomUUID();
}
