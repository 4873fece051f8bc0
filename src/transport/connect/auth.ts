import { createHash, timingSafeEqual } from "node:crypto";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";

export interface ApiKeyEntry {
  tenantId: string;
  /** SHA-256 of the key; the key itself is never kept. */
  keyHash: Buffer;
}

export const hashApiKey = (key: string) => createHash("sha256").update(key, "utf8").digest();

const tenantKey = createContextKey<string | undefined>(undefined, { description: "tenant of the caller" });

/**
 * Every RPC needs `authorization: Bearer <key>`; the key decides the tenant. A header that
 * authenticated once is remembered with its tenant, so the hash and comparisons run once per key
 * rather than once per call; a key has one spelling as a header, so there are at most as many
 * entries as keys. A lookup that misses tells a caller no more than the answer does: that the
 * header is not a valid key.
 */
export function createAuthInterceptor(keys: readonly ApiKeyEntry[]): Interceptor {
  const accepted = new Map<string, string>();
  return (next) => async (request) => {
    const header = request.header.get("authorization") ?? "";
    let tenantId = accepted.get(header);
    if (tenantId === undefined) {
      tenantId = tenantOfHeader(keys, header);
      accepted.set(header, tenantId);
    }
    request.contextValues.set(tenantKey, tenantId);
    return next(request);
  };
}

function tenantOfHeader(keys: readonly ApiKeyEntry[], header: string): string {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
  if (!match?.[1]) {
    throw new ConnectError("missing or malformed authorization header (expected: Bearer <api key>)", Code.Unauthenticated);
  }
  const presented = hashApiKey(match[1]);
  // Compare against every entry so the time taken does not reveal which one matched.
  let tenantId: string | undefined;
  for (const entry of keys) {
    if (timingSafeEqual(entry.keyHash, presented) && tenantId === undefined) tenantId = entry.tenantId;
  }
  if (tenantId === undefined) throw new ConnectError("invalid API key", Code.Unauthenticated);
  return tenantId;
}

/** The authenticated tenant of this call; the auth interceptor guarantees it is set. */
export function tenantOf(context: HandlerContext): string {
  const tenantId = context.values.get(tenantKey);
  if (tenantId === undefined) throw new ConnectError("unauthenticated", Code.Unauthenticated);
  return tenantId;
}

/** The tenant the auth interceptor established for a call, if it ran and succeeded (for logs). */
export const authenticatedTenant = (values: ContextValues): string | undefined => values.get(tenantKey);

/**
 * Applies `interceptor` only to services whose full name starts with `prefix` (e.g. `va.v1.`), so
 * health checks and reflection stay open to probes and tools that have no API key.
 */
export function forServices(prefix: string, interceptor: Interceptor): Interceptor {
  return (next) => {
    const intercepted = interceptor(next);
    return (request) => (request.service.typeName.startsWith(prefix) ? intercepted(request) : next(request));
  };
}
