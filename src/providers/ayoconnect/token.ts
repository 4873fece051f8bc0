import { DomainError } from "../../domain/errors.js";
import { callProvider, parseProviderJson } from "../shared/http.js";
import { wireReader } from "../shared/wire-helpers.js";
import { readErrors } from "./errors.js";
import { AYOCONNECT } from "./transformers.js";

/**
 * OAuth2 client credentials for the legacy API (reference §7.2, shape from S16):
 * `POST /v1/oauth/client_credential/accesstoken?grant_type=client_credentials` with a form body,
 * answering `{accessToken, expiresIn:"3599", …}` (expiresIn: seconds, as a string).
 *
 * The token is cached until a minute before it expires, and one request serves concurrent callers.
 * Neither the secret nor the token ever goes into an error: token answers are not echoed.
 */
export interface TokenSource {
  get(): Promise<string>;
  /** Drops a token the API refused, so the next get() asks for a new one. */
  forget(token: string): void;
}

export interface TokenSourceConfig {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  now: () => Date;
}

const REFRESH_MARGIN_MS = 60_000;
const { text, record } = wireReader(AYOCONNECT);

export function createTokenSource(config: TokenSourceConfig): TokenSource {
  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function requestToken(): Promise<string> {
    const response = await callProvider({
      provider: AYOCONNECT,
      method: "POST",
      url: `${config.baseUrl}/v1/oauth/client_credential/accesstoken?grant_type=client_credentials`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: config.clientId, client_secret: config.clientSecret }).toString(),
      timeoutMs: config.timeoutMs,
      // Shared by concurrent callers, so no single caller's deadline may cancel it.
      signal: new AbortController().signal,
    });
    if (response.status !== 200) throw tokenRefused(response.status, response.text);
    let answer: Record<string, unknown>;
    try {
      answer = record(parseProviderJson(AYOCONNECT, response), "body");
    } catch {
      throw new DomainError("UNAVAILABLE", `${AYOCONNECT} answered the token request with a malformed body`, {
        provider: AYOCONNECT,
      });
    }
    const token = text(answer.accessToken, "accessToken");
    const lifetimeSeconds = Number(text(answer.expiresIn, "expiresIn"));
    if (!Number.isSafeInteger(lifetimeSeconds) || lifetimeSeconds <= 0) {
      throw new DomainError("UNAVAILABLE", `${AYOCONNECT} gave a token without a usable lifetime`, {
        provider: AYOCONNECT,
      });
    }
    const lifetimeMs = lifetimeSeconds * 1_000;
    const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2);
    cached = { token, refreshAt: config.now().getTime() + lifetimeMs - margin };
    return token;
  }

  return {
    async get() {
      if (cached && config.now().getTime() < cached.refreshAt) return cached.token;
      pending ??= requestToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    forget(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}

function tokenRefused(status: number, body: string): DomainError {
  const code = readErrors(body)[0]?.code ?? String(status);
  if (status >= 500) {
    return new DomainError("UNAVAILABLE", `${AYOCONNECT} could not issue a token (HTTP ${status})`, {
      provider: AYOCONNECT,
      providerCode: code,
    });
  }
  return new DomainError(
    "FAILED_PRECONDITION",
    `${AYOCONNECT} refused our client credentials (${code}): check the provider account configuration`,
    { provider: AYOCONNECT, providerCode: code },
  );
}
