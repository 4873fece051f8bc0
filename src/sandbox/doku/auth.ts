import { bodyDigest, hasValidSignature, isWithinClockSkew, parseDokuTimestamp } from "../../providers/doku/signature.js";
import type { SimulatorRequest } from "../simulator-kit.js";
import { DokuRefusal } from "./rules.js";

/** The merchant a simulated DOKU knows, and DOKU's clock at the time of the request. */
export interface RegisteredMerchant {
  clientId: string;
  secretKey: string;
  now: Date;
}

const MAX_REQUEST_ID_LENGTH = 128;

/**
 * DOKU's checks of a merchant's request headers (reference §4.3): all four present, a known
 * Client-Id, Request-Id of at most 128 characters, a UTC timestamp near DOKU's clock, a Digest
 * header (when sent) matching the body, and the signature over the body bytes and the path (a GET
 * signs no Digest).
 * Returns the Request-Id.
 */
export function authenticate(request: SimulatorRequest, merchant: RegisteredMerchant): string {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === "string" ? value : undefined;
  };
  const clientId = header("client-id");
  const requestId = header("request-id");
  const requestTimestamp = header("request-timestamp");
  const signature = header("signature");
  if (!clientId || !requestId || !requestTimestamp || !signature) {
    throw new DokuRefusal(400, "invalid_header", "Client-Id, Request-Id, Request-Timestamp and Signature are required");
  }
  if (clientId !== merchant.clientId) throw new DokuRefusal(401, "invalid_client_id", "Client-Id is not registered");
  if (requestId.length > MAX_REQUEST_ID_LENGTH) {
    throw new DokuRefusal(400, "invalid_header", `Request-Id has more than ${MAX_REQUEST_ID_LENGTH} characters`);
  }
  const sentAt = parseDokuTimestamp(requestTimestamp);
  if (sentAt === undefined) {
    throw new DokuRefusal(400, "invalid_timestamp", "Request-Timestamp must be UTC ISO-8601 such as 2020-08-11T08:45:42Z");
  }
  if (!isWithinClockSkew(sentAt, merchant.now)) {
    throw new DokuRefusal(400, "invalid_timestamp", "Request-Timestamp is too far from DOKU's clock");
  }
  const digest = header("digest");
  if (digest !== undefined && digest !== bodyDigest(request.rawBody)) {
    throw new DokuRefusal(400, "invalid_digest", "Digest does not match the body");
  }
  const body = request.method === "GET" ? undefined : request.rawBody;
  const parts = { clientId, requestId, requestTimestamp, requestTarget: request.path, body };
  if (!hasValidSignature(signature, parts, merchant.secretKey)) {
    throw new DokuRefusal(401, "invalid_signature", "Signature does not match the request");
  }
  return requestId;
}
