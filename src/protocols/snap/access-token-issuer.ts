import { createHmac, timingSafeEqual } from "node:crypto";
import type { HttpAnswer, InboundHttpRequest } from "../../providers/provider.js";
import { isRecord } from "../../providers/shared/wire-helpers.js";
import { badFieldAnswer, missingFieldAnswer, snapAnswer, unauthorizedAnswer } from "./answer.js";
import { SnapHeader } from "./headers.js";
import { checkTimestamp, missingHeader } from "./inbound-request.js";
import { SnapOutcomes, SnapService } from "./response-code.js";
import { type SnapKey, verifyAccessTokenRequest } from "./signature.js";

/**
 * Our side of `POST /v1.0/access-token/b2b` for partners that use the symmetric signature: verify
 * the caller's RSA signature over `clientId|X-TIMESTAMP`, issue a bearer token, and later resolve
 * bearer tokens back to the client. Tokens are self-contained (client id + expiry, MAC'd with
 * `tokenSecret`), so every instance of the service accepts them without shared state.
 */
export interface AccessTokenIssuerConfig {
  /** Public key of each client allowed to ask for tokens; undefined for an unknown client. */
  clientPublicKeyOf: (clientId: string) => SnapKey | undefined;
  /** MAC key for our tokens, at least 32 random bytes; changing it revokes every token. */
  tokenSecret: Buffer;
  /** Standard value: 900 (15 minutes). */
  ttlSeconds?: number;
  maxClockSkewMs?: number;
  now?: () => Date;
}

export interface AccessTokenIssuer {
  /** Answers a token request with `2007300` and the token, or the SNAP refusal. */
  issue(request: InboundHttpRequest): HttpAnswer;
  /** The client a still-valid token was issued to; undefined for forged or expired tokens. */
  clientIdOfToken(accessToken: string): string | undefined;
}

const svc = SnapService.accessTokenB2b;
const TOKEN_HEADERS = ["X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE"] as const;

export function createAccessTokenIssuer(config: AccessTokenIssuerConfig): AccessTokenIssuer {
  if (config.tokenSecret.length < 32) throw new RangeError("tokenSecret must be at least 32 bytes");
  const ttlSeconds = config.ttlSeconds ?? 900;
  const now = config.now ?? (() => new Date());
  const mac = (payload: string) => createHmac("sha256", config.tokenSecret).update(payload).digest();

  function issue(request: InboundHttpRequest): HttpAnswer {
    const missing = missingHeader(request, TOKEN_HEADERS);
    if (missing) return missingFieldAnswer(svc, missing);
    const timestamp = request.headers[SnapHeader.timestamp] ?? "";
    const clientId = request.headers[SnapHeader.clientKey] ?? "";
    const fresh = checkTimestamp(timestamp, svc, now(), config.maxClockSkewMs);
    if (!fresh.ok) return fresh.answer;
    const publicKey = config.clientPublicKeyOf(clientId);
    if (!publicKey) return unauthorizedAnswer(svc, "Unknown Client");
    const signature = request.headers[SnapHeader.signature] ?? "";
    if (!verifyAccessTokenRequest(clientId, timestamp, signature, publicKey)) {
      return unauthorizedAnswer(svc, "Invalid Signature");
    }
    const grantProblem = grantTypeProblem(request.rawBody);
    if (grantProblem === "unreadable") return snapAnswer(SnapOutcomes.badRequest, svc);
    if (grantProblem === "missing") return missingFieldAnswer(svc, "grantType");
    if (grantProblem === "invalid") return badFieldAnswer(svc, "grantType");

    const expiresAt = Math.floor(now().getTime() / 1000) + ttlSeconds;
    const payload = Buffer.from(JSON.stringify({ clientId, expiresAt })).toString("base64url");
    const accessToken = `${payload}.${mac(payload).toString("base64url")}`;
    return snapAnswer(SnapOutcomes.successful, svc, SnapOutcomes.successful.message, {
      accessToken,
      tokenType: "Bearer",
      expiresIn: String(ttlSeconds),
      additionalInfo: {},
    });
  }

  function clientIdOfToken(accessToken: string): string | undefined {
    const [payload, tag, extra] = accessToken.split(".");
    if (!payload || !tag || extra !== undefined) return undefined;
    const expected = mac(payload);
    const received = Buffer.from(tag, "base64url");
    if (received.length !== expected.length || !timingSafeEqual(received, expected)) return undefined;
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    if (!isRecord(claims) || typeof claims.clientId !== "string" || typeof claims.expiresAt !== "number") {
      return undefined;
    }
    return claims.expiresAt * 1000 > now().getTime() ? claims.clientId : undefined;
  }

  return { issue, clientIdOfToken };
}

/**
 * The claims of a token an issuer with `tokenSecret` made, expired or not; undefined for anything it
 * did not make. For a partner whose late retry carries the token of its first attempt: the token
 * still proves who sent it, and the caller treats its expiry as a doubt to confirm, not a refusal.
 */
export function readIssuedToken(tokenSecret: Buffer, accessToken: string): { clientId: string; expiresAt: Date } | undefined {
  const [payload, tag, extra] = accessToken.split(".");
  if (!payload || !tag || extra !== undefined) return undefined;
  const expected = createHmac("sha256", tokenSecret).update(payload).digest();
  const received = Buffer.from(tag, "base64url");
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) return undefined;
  const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  if (!isRecord(claims) || typeof claims.clientId !== "string" || typeof claims.expiresAt !== "number") return undefined;
  return { clientId: claims.clientId, expiresAt: new Date(claims.expiresAt * 1000) };
}

function grantTypeProblem(rawBody: Buffer): "unreadable" | "missing" | "invalid" | undefined {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString("utf8"));
  } catch {
    return "unreadable";
  }
  if (!isRecord(body) || body.grantType === undefined) return "missing";
  return body.grantType === "client_credentials" ? undefined : "invalid";
}
