import { DomainError } from "../../domain/errors.js";
import { callProvider } from "../../providers/shared/http.js";
import { readSnapAnswer } from "./provider-answer.js";
import { type SnapKey, signAccessTokenRequest } from "./signature.js";
import { formatSnapTimestamp } from "./timestamp.js";

/** A bearer token for the symmetric signature, fetched and renewed as needed. */
export interface AccessTokenSource {
  token(signal: AbortSignal): Promise<string>;
  /** Forget the cached token, e.g. after the provider answered `401xx01` Invalid Token. */
  invalidate(): void;
}

export interface AccessTokenClientConfig {
  provider: string;
  /** Scheme, host and any prefix the provider puts before `/v1.0/…`. */
  baseUrl: string;
  clientId: string;
  privateKey: SnapKey;
  timeoutMs: number;
  /** Path of the token service as signed and appended to `baseUrl`. */
  path?: string;
  /** Renew this long before `expiresIn` runs out (at most half the token's lifetime). */
  refreshMarginMs?: number;
  now?: () => Date;
}

export const ACCESS_TOKEN_B2B_PATH = "/v1.0/access-token/b2b";

interface CachedToken {
  accessToken: string;
  renewAt: number;
}

/**
 * Client for `POST /v1.0/access-token/b2b`: signs `clientId|X-TIMESTAMP`, caches the token and
 * renews it before `expiresIn` elapses. Concurrent callers share one request (and the signal of
 * the caller that started it).
 */
export function createAccessTokenClient(config: AccessTokenClientConfig): AccessTokenSource {
  const now = config.now ?? (() => new Date());
  const path = config.path ?? ACCESS_TOKEN_B2B_PATH;
  let cached: CachedToken | undefined;
  let inFlight: Promise<CachedToken> | undefined;

  async function fetchToken(signal: AbortSignal): Promise<CachedToken> {
    const requestedAt = now().getTime();
    const timestamp = formatSnapTimestamp(new Date(requestedAt));
    const response = await callProvider({
      provider: config.provider,
      method: "POST",
      url: config.baseUrl + path,
      headers: {
        "X-TIMESTAMP": timestamp,
        "X-CLIENT-KEY": config.clientId,
        "X-SIGNATURE": signAccessTokenRequest(config.clientId, timestamp, config.privateKey),
      },
      body: JSON.stringify({ grantType: "client_credentials", additionalInfo: {} }),
      timeoutMs: config.timeoutMs,
      signal,
    });
    const body = readSnapAnswer(config.provider, response);
    const lifetimeMs = Number(body.expiresIn) * 1000;
    if (typeof body.accessToken !== "string" || body.accessToken === "" || !(lifetimeMs > 0)) {
      throw new DomainError("UNAVAILABLE", `${config.provider} answered an unusable access token`, {
        provider: config.provider,
      });
    }
    const margin = Math.min(config.refreshMarginMs ?? 60_000, lifetimeMs / 2);
    return { accessToken: body.accessToken, renewAt: requestedAt + lifetimeMs - margin };
  }

  return {
    async token(signal) {
      if (cached && now().getTime() < cached.renewAt) return cached.accessToken;
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
