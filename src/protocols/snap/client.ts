import { DomainError } from "../../domain/errors.js";
import { callProvider } from "../../providers/shared/http.js";
import type { AccessTokenSource } from "./access-token-client.js";
import { newExternalId, snapTransactionHeaders } from "./headers.js";
import { type RequestFieldOf, readSnapAnswer } from "./provider-answer.js";
import { type SignedRequest, type SnapKey, signAsymmetric, signSymmetric } from "./signature.js";
import { formatSnapTimestamp } from "./timestamp.js";

/** How we sign requests to one provider. */
export type SnapSigning =
  | { kind: "asymmetric"; privateKey: SnapKey }
  | { kind: "symmetric"; clientSecret: string; accessTokens: AccessTokenSource };

export interface SnapClientConfig {
  provider: string;
  /** Scheme, host and any prefix the provider puts before the signed path (Winpay: `…/snap`). */
  baseUrl: string;
  partnerId: string;
  channelId: string;
  signing: SnapSigning;
  timeoutMs: number;
  now?: () => Date;
}

export interface SnapCall {
  method: "POST" | "PUT" | "DELETE";
  /** The path as signed, e.g. `/v1.0/transfer-va/create-va`; the URL is `baseUrl + path`. */
  path: string;
  body: unknown;
  signal: AbortSignal;
  /** Maps the provider's field names in `400xx01/02` messages to our request's. */
  requestFieldOf?: RequestFieldOf;
}

export interface SnapClient {
  /** Sends one signed call; resolves with the body of a success, throws DomainError otherwise. */
  call(call: SnapCall): Promise<Record<string, unknown>>;
}

/**
 * Outbound SNAP transaction calls: the body is serialised once and those exact bytes are both
 * signed and sent, with a fresh X-TIMESTAMP and X-EXTERNAL-ID per call.
 */
export function createSnapClient(config: SnapClientConfig): SnapClient {
  const now = config.now ?? (() => new Date());
  return {
    async call({ method, path, body, signal, requestFieldOf }) {
      const rawBody = JSON.stringify(body);
      const at = now();
      const timestamp = formatSnapTimestamp(at);
      const signed = { method, path, body: rawBody, timestamp };
      const { signature, accessToken } = await signCall(config.signing, signed, signal);
      const response = await callProvider({
        provider: config.provider,
        method,
        url: config.baseUrl + path,
        headers: snapTransactionHeaders({
          timestamp,
          signature,
          accessToken,
          partnerId: config.partnerId,
          externalId: newExternalId(at),
          channelId: config.channelId,
        }),
        body: rawBody,
        timeoutMs: config.timeoutMs,
        signal,
      });
      try {
        return readSnapAnswer(config.provider, response, requestFieldOf);
      } catch (error) {
        if (config.signing.kind === "symmetric" && isInvalidTokenRefusal(error)) config.signing.accessTokens.invalidate();
        throw error;
      }
    },
  };
}

async function signCall(
  signing: SnapSigning,
  request: SignedRequest,
  signal: AbortSignal,
): Promise<{ signature: string; accessToken?: string }> {
  if (signing.kind === "asymmetric") return { signature: signAsymmetric(request, signing.privateKey) };
  const accessToken = await signing.accessTokens.token(signal);
  return { signature: signSymmetric(request, accessToken, signing.clientSecret), accessToken };
}

/** `401xx01` Invalid Token (B2B) or `401xx03` Token Not Found: the cached token is no good. */
function isInvalidTokenRefusal(error: unknown): boolean {
  const code = error instanceof DomainError ? error.facts.providerCode : undefined;
  return code !== undefined && /^401\d\d0[13]$/.test(code);
}
