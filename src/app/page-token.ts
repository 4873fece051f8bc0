import { createHash } from "node:crypto";
import { invalidArgument } from "../domain/errors.js";

/** Where the previous page ended in the newest-first order: its last row's creation time and id. */
export interface PagePosition {
  createdAt: Date;
  id: string;
}

interface TokenBody {
  /** Last row's created_at, epoch milliseconds. */
  t: number;
  i: string;
  /** Fingerprint of the tenant and filters the token was issued for. */
  f: string;
}

/**
 * AIP-158 page tokens: opaque to callers (base64url JSON), bound to the query they were issued
 * for, so a token sent with other filters (or by another tenant) is refused instead of silently
 * paging a different list. Not secret: they only point into the caller's own rows.
 */
export function encodePageToken(position: PagePosition, query: unknown): string {
  const body: TokenBody = { t: position.createdAt.getTime(), i: position.id, f: fingerprint(query) };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

export function decodePageToken(token: string, query: unknown): PagePosition {
  const body = parse(token);
  if (!body) throw invalidArgument("page_token", "not a page token this service issued; start again without one");
  if (body.f !== fingerprint(query)) {
    throw invalidArgument(
      "page_token",
      "was issued for other filters; send the same filters as the first page, or start again without a token",
    );
  }
  return { createdAt: new Date(body.t), id: body.i };
}

function parse(token: string): TokenBody | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    const body: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof body !== "object" || body === null) return undefined;
    const { t, i, f } = body as Record<string, unknown>;
    if (!Number.isSafeInteger(t) || typeof i !== "string" || typeof f !== "string") return undefined;
    return { t: t as number, i, f };
  } catch {
    return undefined;
  }
}

function fingerprint(query: unknown): string {
  return createHash("sha256").update(JSON.stringify(query)).digest("base64url").slice(0, 16);
}
