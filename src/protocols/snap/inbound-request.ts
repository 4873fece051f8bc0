import { createHash } from "node:crypto";
import type { HttpAnswer, InboundHttpRequest, RequestIdGuard } from "../../providers/provider.js";
import { badFieldAnswer, missingFieldAnswer, snapAnswer, unauthorizedAnswer } from "./answer.js";
import type { ExternalIdStore } from "./external-id-store.js";
import { bearerToken, SnapHeader } from "./headers.js";
import { SnapOutcomes } from "./response-code.js";
import { type SignedRequest, type SnapKey, verifyAsymmetric, verifySymmetric } from "./signature.js";
import { jakartaDay, parseSnapTimestamp } from "./timestamp.js";

/** How one partner signs the requests it sends us. */
export type InboundCredentials =
  | { kind: "asymmetric"; publicKey: SnapKey }
  | {
      kind: "symmetric";
      clientSecret: string;
      /** Resolves a bearer token we issued (see access-token-issuer.ts) to its client id. */
      clientIdOfToken: (accessToken: string) => string | undefined;
    };

/** No provider documents a tolerated clock skew; 5 minutes either way is our choice. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000;

export type Rejection = { ok: false; answer: HttpAnswer; reason: string };
const reject = (answer: HttpAnswer, reason: string): Rejection => ({ ok: false, answer, reason });

/** Reads X-TIMESTAMP and refuses one too far from our clock (`401xx00`): replays go stale. */
export function checkTimestamp(
  text: string,
  serviceCode: string,
  now: Date,
  maxClockSkewMs = DEFAULT_MAX_CLOCK_SKEW_MS,
): { ok: true; timestamp: Date } | Rejection {
  const timestamp = parseSnapTimestamp(text);
  if (!timestamp) return reject(badFieldAnswer(serviceCode, "X-TIMESTAMP"), "X-TIMESTAMP is not ISO-8601 with offset");
  const skew = Math.abs(now.getTime() - timestamp.getTime());
  if (skew > maxClockSkewMs) {
    return reject(unauthorizedAnswer(serviceCode, "Stale Timestamp"), `X-TIMESTAMP is ${skew} ms off our clock`);
  }
  return { ok: true, timestamp };
}

/** `409xx00`: the partner used this X-EXTERNAL-ID today for a different request. */
export const externalIdReusedAnswer = (serviceCode: string): HttpAnswer =>
  snapAnswer(SnapOutcomes.conflict, serviceCode, "Cannot use same X-EXTERNAL-ID in same day");

/** The first header of `names` (upper-case as the standard spells them) that is missing. */
export function missingHeader(request: InboundHttpRequest, names: readonly string[]): string | undefined {
  return names.find((name) => !request.headers[name.toLowerCase()]);
}

export interface InboundCheck {
  /** Service code for the answers (`25` payment, `24` inquiry…). */
  serviceCode: string;
  /**
   * The path the sender signed: the path it addressed, which is `request.path` unless a proxy
   * rewrote it on the way; then the operator configures the public path here.
   */
  signedPath: string;
  /** The partner's credentials by X-PARTNER-ID; undefined for a partner we do not know. */
  credentialsOf: (partnerId: string) => InboundCredentials | undefined;
  /**
   * Claims X-EXTERNAL-ID once the signature holds. Without one the caller guards the id itself
   * (`VerifiedSnapRequest.requestIdGuard`, checked in the database with the body's hash).
   */
  externalIds?: ExternalIdStore;
  now: Date;
  maxClockSkewMs?: number;
  /**
   * A stale X-TIMESTAMP on a correctly signed request is a doubt to confirm, not a refusal: a
   * provider's retry may carry its first attempt's timestamp. Only for callbacks reporting money.
   */
  staleIsDoubt?: boolean;
}

export interface VerifiedSnapRequest {
  partnerId: string;
  externalId: string;
  channelId: string;
  timestamp: Date;
  /** X-EXTERNAL-ID within the partner and Jakarta day, with the body's hash. */
  requestIdGuard: RequestIdGuard;
  /** Why the request cannot be believed on its face although its signature holds (stale timestamp). */
  doubt: string | undefined;
}

const TRANSACTION_HEADERS = ["X-TIMESTAMP", "X-SIGNATURE", "X-PARTNER-ID", "X-EXTERNAL-ID", "CHANNEL-ID"] as const;

/**
 * Authenticates a signed SNAP transaction request sent to us, in this order: mandatory headers,
 * timestamp format and freshness, partner, signature over the raw body, then the X-EXTERNAL-ID
 * replay guard (claimed only once the signature holds, so forged requests cannot burn ids).
 * Rejections carry the SNAP answer to send; `reason` is for logs and never contains secrets.
 */
export async function verifyInboundSnapRequest(
  request: InboundHttpRequest,
  check: InboundCheck,
): Promise<{ ok: true; request: VerifiedSnapRequest } | Rejection> {
  const svc = check.serviceCode;
  const missing = missingHeader(request, TRANSACTION_HEADERS);
  if (missing) return reject(missingFieldAnswer(svc, missing), `missing ${missing} header`);
  const header = (name: string) => request.headers[name] ?? "";
  const timestampText = header(SnapHeader.timestamp);
  const partnerId = header(SnapHeader.partnerId);
  const externalId = header(SnapHeader.externalId);

  const timestamp = parseSnapTimestamp(timestampText);
  const fresh = checkTimestamp(timestampText, svc, check.now, check.maxClockSkewMs);
  if (!fresh.ok && !(check.staleIsDoubt && timestamp)) return fresh;
  const doubt = fresh.ok ? undefined : fresh.reason;
  if (externalId.length > 36) return reject(badFieldAnswer(svc, "X-EXTERNAL-ID"), "X-EXTERNAL-ID is too long");

  const credentials = check.credentialsOf(partnerId);
  if (!credentials) return reject(snapAnswer(SnapOutcomes.partnerNotFound, svc), "unknown X-PARTNER-ID");
  const signed: SignedRequest = {
    method: request.method,
    path: check.signedPath,
    body: request.rawBody,
    timestamp: timestampText,
  };
  const signature = header(SnapHeader.signature);
  if (credentials.kind === "symmetric") {
    const accessToken = bearerToken(request.headers[SnapHeader.authorization]);
    if (!accessToken || credentials.clientIdOfToken(accessToken) !== partnerId) {
      return reject(snapAnswer(SnapOutcomes.invalidToken, svc), "missing, expired or foreign access token");
    }
    if (!verifySymmetric(signed, accessToken, credentials.clientSecret, signature)) {
      return reject(unauthorizedAnswer(svc, "Invalid Signature"), "bad signature");
    }
  } else if (!verifyAsymmetric(signed, signature, credentials.publicKey)) {
    return reject(unauthorizedAnswer(svc, "Invalid Signature"), "bad signature");
  }

  const sentAt = timestamp as Date;
  const day = jakartaDay(sentAt);
  if (check.externalIds && !(await check.externalIds.claim(partnerId, day, externalId))) {
    return reject(externalIdReusedAnswer(svc), "X-EXTERNAL-ID reused");
  }
  const bodyHash = createHash("sha256").update(request.rawBody).digest("hex");
  const requestIdGuard = { scope: partnerId, day, requestId: externalId, bodyHash };
  const verified = { partnerId, externalId, channelId: header(SnapHeader.channelId), timestamp: sentAt, requestIdGuard, doubt };
  return { ok: true, request: verified };
}
