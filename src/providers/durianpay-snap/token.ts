import { DomainError } from "../../domain/errors.js";
import type { AccessTokenSource } from "../../protocols/snap/access-token-client.js";
import { readSnapAnswer } from "../../protocols/snap/provider-answer.js";
import { type SnapKey, signAccessTokenRequest } from "../../protocols/snap/signature.js";
import { formatSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { callProvider } from "../shared/http.js";
import { TOKEN_REQUEST_BODY } from "./wire.js";

/**
 * Durianpay's B2B token ("Generate Access Token (B2B)"): signed like the standard (SHA256withRSA over
 * `X-CLIENT-KEY|X-TIMESTAMP`, `signAccessTokenRequest`), answered like the standard (`2007300`,
 * `readSnapAnswer`), but not shaped like it in two ways the shared client cannot express, so this
 * small source sits beside it rather than inside it:
 * - the body is `{"grantType":"AUTHORIZATION_CODE"}` (the standard sends `client_credentials`);
 * - `expiresIn` is an instant, `"2024-05-13 08:47:36.452492159 +0000 UTC"`, not a number of seconds.
 *   "The token itself will have 900 seconds (15 minutes) valid time by default", no refresh token.
 * A numeric `expiresIn` (seconds) is read too; anything else counts as the published 900 s.
 */
export interface DurianpayTokenConfig {
  provider: string;
  baseUrl: string;
  path: string;
  clientKey: string;
  privateKey: SnapKey;
  timeoutMs: number;
  now: () => Date;
}

export const DEFAULT_TOKEN_LIFETIME_MS = 900_000;
const RENEW_MARGIN_MS = 60_000;
const GO_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? \+0000 UTC$/;

/** When a token answered at `requestedAt` stops working, by its `expiresIn`. */
export function tokenExpiry(expiresIn: unknown, requestedAt: number): number {
  if (typeof expiresIn === "string" && /^\d+$/.test(expiresIn)) return requestedAt + Number(expiresIn) * 1000;
  if (typeof expiresIn === "number" && expiresIn > 0) return requestedAt + expiresIn * 1000;
  const match = typeof expiresIn === "string" ? GO_TIME.exec(expiresIn) : null;
  if (match) {
    const millis = (match[3] ?? "").slice(0, 4).padEnd(4, "0");
    const at = Date.parse(`${match[1]}T${match[2]}${millis === "0000" ? "" : millis}Z`);
    if (!Number.isNaN(at)) return at;
  }
  return requestedAt + DEFAULT_TOKEN_LIFETIME_MS;
}

export function createDurianpayTokenSource(config: DurianpayTokenConfig): AccessTokenSource {
  let cached: { accessToken: string; renewAt: number } | undefined;
  let inFlight: Promise<{ accessToken: string; renewAt: number }> | undefined;

  async function fetchToken(signal: AbortSignal) {
    const requestedAt = config.now().getTime();
    const timestamp = formatSnapTimestamp(new Date(requestedAt));
    const response = await callProvider({
      provider: config.provider,
      method: "POST",
      url: config.baseUrl + config.path,
      headers: {
        "Content-Type": "application/json",
        "X-TIMESTAMP": timestamp,
        "X-CLIENT-KEY": config.clientKey,
        "X-SIGNATURE": signAccessTokenRequest(config.clientKey, timestamp, config.privateKey),
      },
      body: TOKEN_REQUEST_BODY,
      timeoutMs: config.timeoutMs,
      signal,
    });
    const body = readSnapAnswer(config.provider, response);
    if (typeof body.accessToken !== "string" || body.accessToken === "") {
      throw new DomainError("UNAVAILABLE", `${config.provider} answered an unusable access token`, { provider: config.provider });
    }
    const expiresAt = tokenExpiry(body.expiresIn, requestedAt);
    const lifetime = expiresAt - requestedAt;
    if (!(lifetime > 0)) {
      throw new DomainError("UNAVAILABLE", `${config.provider} answered an access token that has already expired`, {
        provider: config.provider,
      });
    }
    return { accessToken: body.accessToken, renewAt: expiresAt - Math.min(RENEW_MARGIN_MS, lifetime / 2) };
  }

  return {
    async token(signal) {
      if (cached && config.now().getTime() < cached.renewAt) return cached.accessToken;
      inFlight ??= fetchToken(signal).finally(() => {
        inFlight = undefined;
      });
      cached = await inFlight;
      return cached.accessToken;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
