import { randomBytes } from "node:crypto";
import { DomainError } from "../../domain/errors.js";
import { formatRupiah2, type Rupiah } from "../../domain/money.js";
import { checkVaNumber } from "../../domain/virtual-account.js";
import { jsonAnswer, parseJsonObject } from "../wire-helpers.js";
import { callProvider, parseProviderJson, type ProviderHttpRequest, type ProviderHttpResponse } from "../http.js";
import type {
  HttpAnswer,
  InboundHttpRequest,
  ProviderCreateRequest,
  ProviderVaRef,
  ProviderVirtualAccount,
  RecordingResult,
  VaProvider,
  WebhookResult,
} from "../provider.js";
import { ayoconnectError } from "./errors.js";
import { createTokenSource } from "./token.js";
import {
  AYOCONNECT,
  type AyoconnectVaKey,
  type AyoconnectVaState,
  bankByOurCode,
  bankCodeOfFlow,
  decodeVaKey,
  encodeVaKey,
  flowIds,
  PAID_STATES,
  callbackPaymentRef,
  readCallback,
  readSimulatedPayment,
  readVirtualAccountData,
  statusQuery,
  toCancelBody,
  toCreateBody,
  toUpdateBody,
  type VirtualAccountChanges,
} from "./transformers.js";

export interface AyoconnectConfig {
  /** `https://sandbox.api.of.ayoconnect.id` or production. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** `A-Merchant-Code`, 6 alphanumerics; also our providerAccount (the payment dedupe scope). */
  merchantCode: string;
  timeoutMs?: number;
  now?: () => Date;
}

export interface AyoconnectProvider extends VaProvider {
  /** Ayoconnect's status query (`GET /api/v1/virtualAccount`). */
  fetchVirtualAccount(va: ProviderVaRef, signal: AbortSignal): Promise<AyoconnectVaState>;
  updateVirtualAccount(va: ProviderVaRef, changes: VirtualAccountChanges, signal: AbortSignal): Promise<void>;
  /**
   * Ayoconnect has no payment-simulation API; this calls our simulator's own route
   * (`POST /simulator/v1/virtualAccount/payment`) and fails against the real sandbox.
   */
  simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

const VA_PATH = "/api/v1/virtualAccount";

/** GET and PATCH want a new 32-character `transactionId` on every request. */
const newTransactionId = () => randomBytes(16).toString("hex");

export function createAyoconnectProvider(config: AyoconnectConfig): AyoconnectProvider {
  const now = config.now ?? (() => new Date());
  const timeoutMs = config.timeoutMs ?? 10_000;
  const tokens = createTokenSource({ ...config, timeoutMs, now });

  /** One authorised call within a VA's flow; a refused token is replaced once. */
  async function send(
    method: ProviderHttpRequest["method"],
    path: string,
    correlationId: string,
    signal: AbortSignal,
    body?: object,
  ): Promise<ProviderHttpResponse> {
    for (let attempt = 1; ; attempt++) {
      const token = await tokens.get();
      const response = await callProvider({
        provider: AYOCONNECT,
        method,
        url: `${config.baseUrl}${path}`,
        headers: {
          authorization: `Bearer ${token}`,
          "a-correlation-id": correlationId,
          "a-merchant-code": config.merchantCode,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs,
        signal,
      });
      if (response.status !== 401 || attempt === 2) return response;
      tokens.forget(token);
    }
  }

  async function call(
    method: ProviderHttpRequest["method"],
    path: string,
    correlationId: string,
    expectedStatus: number,
    signal: AbortSignal,
    body?: object,
  ): Promise<unknown> {
    const response = await send(method, path, correlationId, signal, body);
    if (response.status !== expectedStatus) throw ayoconnectError(response);
    return parseProviderJson(AYOCONNECT, response);
  }

  async function queryStatus(key: AyoconnectVaKey, signal: AbortSignal): Promise<AyoconnectVaState> {
    const query = statusQuery(key, newTransactionId());
    const { state } = readVirtualAccountData(await call("GET", `${VA_PATH}?${query}`, key.correlationId, 200, signal));
    return { ...state, providerReference: encodeVaKey(key) };
  }

  async function update(va: ProviderVaRef, body: (key: AyoconnectVaKey) => object, signal: AbortSignal) {
    const key = decodeVaKey(va.providerReference);
    await call("PATCH", VA_PATH, key.correlationId, 200, signal, body(key));
  }

  return {
    name: AYOCONNECT,

    async createVirtualAccount(request: ProviderCreateRequest, signal: AbortSignal): Promise<ProviderVirtualAccount> {
      const bank = bankByOurCode(request.bankCode);
      const { transactionId, correlationId } = flowIds(request.externalId, bank, request.usage);
      const body = toCreateBody(request, now(), bank, transactionId);
      const created = readVirtualAccountData(await call("POST", VA_PATH, correlationId, 201, signal, body));
      checkVaNumber(created.state.vaNumber);
      const key = { virtualAccountId: created.virtualAccountId, customerId: created.customerId, correlationId };
      return {
        providerAccount: config.merchantCode,
        providerReference: encodeVaKey(key),
        vaNumber: created.state.vaNumber,
      };
    },

    cancelVirtualAccount: (va, signal) => update(va, (key) => toCancelBody(key, newTransactionId()), signal),

    updateVirtualAccount: (va, changes, signal) =>
      update(va, (key) => toUpdateBody(key, newTransactionId(), changes, now()), signal),

    fetchVirtualAccount: async (va, signal) => queryStatus(decodeVaKey(va.providerReference), signal),

    async simulatePayment(va, amount, signal) {
      const key = decodeVaKey(va.providerReference);
      const body = { virtualAccountNumber: va.vaNumber, amount: { value: formatRupiah2(amount), currency: "IDR" } };
      const answer = await call("POST", "/simulator/v1/virtualAccount/payment", key.correlationId, 200, signal, body);
      return { providerPaymentRef: callbackPaymentRef(key, readSimulatedPayment(answer)) };
    },

    async receiveWebhook(request: InboundHttpRequest): Promise<WebhookResult> {
      const rawPayload = request.rawBody.toString("utf8");
      let callback: ReturnType<typeof readCallback>;
      try {
        callback = readCallback(parseJsonObject(rawPayload));
      } catch (error) {
        return rejected(400, `unreadable callback: ${(error as Error).message}`);
      }
      if (!bankCodeOfFlow(callback.key.correlationId)) {
        return rejected(400, `callback names flow ${callback.key.correlationId}, which this gateway did not start`);
      }
      // Legacy callbacks are unsigned: believe one only once the status query shows the VA paid.
      let state: AyoconnectVaState;
      try {
        state = await queryStatus(callback.key, new AbortController().signal);
      } catch (error) {
        // Only Ayoconnect denying the VA is final; trouble on our side of the query is worth a retry.
        const denied =
          error instanceof DomainError && (error.kind === "NOT_FOUND" || error.kind === "INVALID_ARGUMENT");
        return rejected(denied ? 400 : 503, `could not confirm the callback: ${(error as Error).message}`);
      }
      if (state.vaNumber !== callback.vaNumber || !PAID_STATES.has(state.providerStatus)) {
        const shown = `${state.vaNumber} ${state.providerStatus}`;
        return rejected(
          400,
          `${AYOCONNECT} shows ${callback.key.virtualAccountId} as ${shown}, not the paid VA claimed`,
        );
      }
      if (state.totalAmount > 0n && callback.amount !== state.totalAmount) {
        return rejected(400, `${AYOCONNECT} bills ${callback.key.virtualAccountId} at ${state.totalAmount}, not the amount claimed`);
      }
      return {
        kind: "payment",
        notification: {
          providerAccount: config.merchantCode,
          providerPaymentRef: callbackPaymentRef(callback.key, callback.trxRefID),
          vaNumber: state.vaNumber,
          amount: callback.amount,
          fee: state.adminFee,
          // The legacy callback carries no payment time; it is sent right after the payment.
          paidAt: now(),
          rawPayload,
        },
        answer: acknowledge,
      };
    },
  };
}

/**
 * The legacy docs expect 201. Ayoconnect does not retry a 4xx, so a VA we do not know yet (its create
 * may still be committing) is answered 503 to get the 5 s / 10 s / 30 s retries.
 */
function acknowledge(result: RecordingResult): HttpAnswer {
  return result === "UNKNOWN_VIRTUAL_ACCOUNT"
    ? jsonAnswer(503, { responseCode: 503, responseMessage: "virtual account not known yet" })
    : jsonAnswer(201, { responseCode: 201, responseMessage: "created" });
}

function rejected(status: number, reason: string): WebhookResult {
  return { kind: "rejected", answer: jsonAnswer(status, { responseCode: status, responseMessage: reason }), reason };
}
