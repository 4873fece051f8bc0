import { DomainError } from "../../domain/errors.js";
import type { Belief, InboundHttpRequest, ProviderVirtualAccount, VaProvider, WebhookResult } from "../provider.js";
import { callProvider, type ProviderHttpResponse, parseProviderJson, providerUnavailable } from "../shared/http.js";
import { isRecord, jsonAnswer } from "../shared/wire-helpers.js";
import {
  apiKeyAuthorization,
  callbackSignatureMatches,
  isSignatureHeader,
  isTimestampHeader,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from "./signature.js";
import {
  CREATE_FIELD_PATHS,
  callbackAcknowledgement,
  type FieldPaths,
  findSameTermsVirtualAccount,
  NO_FIELD_PATHS,
  PROVIDER,
  readPaymentCallback,
  readWireError,
  readWirePaymentAccepted,
  readWireVirtualAccount,
  SIMULATE_PAYMENT_FIELD_PATHS,
  toDomainError,
  toWireCreateRequest,
  toWireSimulatePayment,
  type WireCreateRequest,
} from "./transformers.js";

export interface SandboxConfig {
  baseUrl: string;
  merchantId: string;
  apiKey: string;
  webhookSecret: string;
  timeoutMs?: number;
  /** How far a callback's timestamp may be from our clock, either way. */
  webhookToleranceSeconds?: number;
  now?: () => Date;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * The sandbox provider. Creates are never retried here: a create that timed out may have succeeded,
 * and the caller's retry with the same external id is answered with the existing VA.
 */
export function createSandboxProvider(
  config: SandboxConfig,
): VaProvider & Required<Pick<VaProvider, "simulatePayment" | "fetchPayments" | "confirmPayment">> {
  const baseUrl = config.baseUrl.replace(/\/+$/, "");
  const authorization = apiKeyAuthorization(config.apiKey);
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const toleranceSeconds = config.webhookToleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const now = config.now ?? (() => new Date());

  const post = (path: string, body: unknown, signal: AbortSignal) =>
    callProvider({
      provider: PROVIDER,
      method: "POST",
      url: `${baseUrl}${path}`,
      headers: { authorization },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs,
      signal,
    });
  /** An earlier attempt with our external id got through (we crashed or timed out): use its VA. */
  async function adoptExisting(wireRequest: WireCreateRequest, signal: AbortSignal): Promise<ProviderVirtualAccount> {
    const response = await callProvider({
      provider: PROVIDER,
      method: "GET",
      url: `${baseUrl}/v1/virtual-accounts?external_id=${encodeURIComponent(wireRequest.external_id)}`,
      headers: { authorization },
      timeoutMs,
      signal,
    });
    if (response.status !== 200) throw refusal(response, NO_FIELD_PATHS);
    const va = findSameTermsVirtualAccount(parseProviderJson(PROVIDER, response), wireRequest);
    if (!va) {
      throw new DomainError("ALREADY_EXISTS", "idempotency_key: the provider holds a different VA for this key", {
        field: "idempotency_key",
        provider: PROVIDER,
        providerCode: "DUPLICATE_EXTERNAL_ID",
      });
    }
    return { providerAccount: config.merchantId, providerReference: va.id, vaNumber: va.vaNumber, providerVaId: va.id };
  }

  const vaPath = (providerReference: string, action: string) =>
    `/v1/virtual-accounts/${encodeURIComponent(providerReference)}/${action}`;

  return {
    name: PROVIDER,

    async createVirtualAccount(request, signal) {
      const wireRequest = toWireCreateRequest(request);
      const response = await post("/v1/virtual-accounts", wireRequest, signal);
      if (
        response.status === 409 &&
        readWireError(parseProviderJson(PROVIDER, response))?.error_code === "DUPLICATE_EXTERNAL_ID"
      ) {
        return adoptExisting(wireRequest, signal);
      }
      if (response.status !== 200 && response.status !== 201) throw refusal(response, CREATE_FIELD_PATHS);
      const va = readWireVirtualAccount(parseProviderJson(PROVIDER, response));
      if (va === undefined) throw providerUnavailable(PROVIDER, response);
      return { providerAccount: config.merchantId, providerReference: va.id, vaNumber: va.vaNumber, providerVaId: va.id };
    },

    async cancelVirtualAccount(va, signal) {
      const response = await post(vaPath(va.providerReference, "cancel"), undefined, signal);
      if (response.status !== 200) throw refusal(response, NO_FIELD_PATHS);
    },

    async fetchPayments(va, signal) {
      const response = await callProvider({
        provider: PROVIDER,
        method: "GET",
        url: `${baseUrl}${vaPath(va.providerReference, "payments")}`,
        headers: { authorization },
        timeoutMs,
        signal,
      });
      if (response.status !== 200) throw refusal(response, NO_FIELD_PATHS);
      const body = parseProviderJson(PROVIDER, response);
      const items = isRecord(body) && Array.isArray(body.data) ? body.data : undefined;
      if (!items) throw providerUnavailable(PROVIDER, response);
      return items.map((item) => {
        const reading = readPaymentCallback(JSON.stringify(item), config.merchantId);
        if (!reading.ok) throw providerUnavailable(PROVIDER, response);
        return reading.notification;
      });
    },

    /** `GET /v1/payments/{payment_id}`: the sandbox's own record of the payment a callback names. */
    async confirmPayment(claim, signal) {
      const response = await callProvider({
        provider: PROVIDER,
        method: "GET",
        url: `${baseUrl}/v1/payments/${encodeURIComponent(claim.providerPaymentRef)}`,
        headers: { authorization },
        timeoutMs,
        signal,
      });
      if (response.status === 404) return { paid: false, reason: "the sandbox has no such payment" };
      if (response.status !== 200) throw refusal(response, NO_FIELD_PATHS);
      const reading = readPaymentCallback(response.text, config.merchantId);
      if (!reading.ok) throw providerUnavailable(PROVIDER, response);
      const confirmed = reading.notification;
      if (confirmed.providerAccount !== claim.providerAccount)
        return { paid: false, reason: "the payment belongs to another merchant" };
      return { paid: true, notification: confirmed };
    },

    async simulatePayment(va, amount, signal) {
      const path = vaPath(va.providerReference, "simulate-payment");
      const response = await post(path, toWireSimulatePayment(amount), signal);
      if (response.status !== 202) throw refusal(response, SIMULATE_PAYMENT_FIELD_PATHS);
      const accepted = readWirePaymentAccepted(parseProviderJson(PROVIDER, response));
      if (accepted === undefined) throw providerUnavailable(PROVIDER, response);
      return accepted;
    },

    async receiveWebhook(request) {
      return receiveCallback(request, config.merchantId, config.webhookSecret, toleranceSeconds, now());
    },
  };
}

function refusal(response: ProviderHttpResponse, fields: FieldPaths): DomainError {
  const error = response.status < 500 ? readWireError(parseProviderJson(PROVIDER, response)) : undefined;
  return (error && toDomainError(response.status, error, fields)) ?? providerUnavailable(PROVIDER, response);
}

/** Verifies a callback over the exact bytes received, then reads it. Never throws. */
function receiveCallback(
  request: InboundHttpRequest,
  merchantId: string,
  webhookSecret: string,
  toleranceSeconds: number,
  now: Date,
): WebhookResult {
  const reject = (status: number, body: object, reason: string): WebhookResult => ({
    kind: "rejected",
    answer: jsonAnswer(status, body),
    reason,
  });
  if (request.method !== "POST") {
    return reject(405, { error: "METHOD_NOT_ALLOWED" }, `callback used method ${request.method}`);
  }
  const timestamp = request.headers[TIMESTAMP_HEADER.toLowerCase()];
  const signature = request.headers[SIGNATURE_HEADER.toLowerCase()];
  if (!isTimestampHeader(timestamp) || !isSignatureHeader(signature)) {
    return reject(401, { error: "INVALID_SIGNATURE" }, "signature or timestamp header missing or malformed");
  }
  if (!callbackSignatureMatches(webhookSecret, timestamp, request.rawBody, signature)) {
    return reject(401, { error: "INVALID_SIGNATURE" }, "signature does not match the body");
  }
  // Signed by the sandbox but old: a late retry, or a replay; either way confirmed before it counts.
  const skewSeconds = Math.abs(now.getTime() / 1000 - Number(timestamp));
  const belief: Belief =
    skewSeconds > toleranceSeconds
      ? { verified: false, doubt: `timestamp is ${Math.round(skewSeconds)} s away from our clock` }
      : { verified: true };
  const reading = readPaymentCallback(request.rawBody.toString("utf8"), merchantId);
  if (!reading.ok) {
    const body = reading.field === undefined ? {} : { field: reading.field };
    const where = reading.field === undefined ? "" : `${reading.field} `;
    return reject(400, { error: "MALFORMED_PAYLOAD", ...body }, `malformed callback: ${where}${reading.problem}`);
  }
  return { kind: "payment", notification: reading.notification, belief, answer: callbackAcknowledgement };
}
