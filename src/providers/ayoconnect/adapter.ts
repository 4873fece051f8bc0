import { randomBytes } from "node:crypto";
import { DomainError } from "../../domain/errors.js";
import { formatRupiah2, type Rupiah } from "../../domain/money.js";
import { checkVaNumber } from "../../domain/virtual-account.js";
import type {
  Confirmation,
  HttpAnswer,
  InboundHttpRequest,
  PaymentNotification,
  ProviderCreateRequest,
  ProviderVaRef,
  ProviderVirtualAccount,
  RecordingResult,
  VaProvider,
  WebhookResult,
} from "../provider.js";
import type { AdapterSettings } from "../shared/adapter-settings.js";
import { callProvider, type ProviderHttpRequest, type ProviderHttpResponse, parseProviderJson } from "../shared/http.js";
import { jsonAnswer, parseJsonObject } from "../shared/wire-helpers.js";
import { AYOCONNECT_BANKS } from "./capabilities.js";
import { ayoconnectError } from "./errors.js";
import { createTokenSource } from "./token.js";
import {
  AYOCONNECT,
  type AyoconnectCallback,
  type AyoconnectVaKey,
  type AyoconnectVaState,
  bankByOurCode,
  bankCodeOfFlow,
  callbackPaymentRef,
  decodeVaKey,
  encodeVaKey,
  flowIds,
  isSinglePaymentFlow,
  PAID_STATES,
  readCallback,
  readSimulatedPayment,
  readVirtualAccountData,
  singlePaymentRef,
  statusQuery,
  toCancelBody,
  toCreateBody,
  toUpdateBody,
  type VirtualAccountChanges,
} from "./transformers.js";

export interface AyoconnectConfig extends AdapterSettings {
  /** `https://sandbox.api.of.ayoconnect.id` or production. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** `A-Merchant-Code`, 6 alphanumerics; also our providerAccount (the payment dedupe scope). */
  merchantCode: string;
}

export interface AyoconnectProvider extends VaProvider {
  /** Ayoconnect's status query (`GET /api/v1/virtualAccount`). */
  fetchVirtualAccount(va: ProviderVaRef, signal: AbortSignal): Promise<AyoconnectVaState>;
  updateVirtualAccount(va: ProviderVaRef, changes: VirtualAccountChanges, signal: AbortSignal): Promise<void>;
  confirmPayment(claim: PaymentNotification, signal: AbortSignal, context?: { firstSeenAt: Date }): Promise<Confirmation>;
  fetchPayments(va: ProviderVaRef, signal: AbortSignal): Promise<PaymentNotification[]>;
  /**
   * Ayoconnect has no payment-simulation API; this calls our simulator's own route
   * (`POST /simulator/v1/virtualAccount/payment`) and fails against the real sandbox.
   */
  simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

const VA_PATH = "/api/v1/virtualAccount";

/** How long a VA of ours that a callback says was paid may show unpaid before the claim is refuted. */
const STATUS_LAG_GRACE_MS = 15 * 60_000;

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

  async function queryStatus(
    key: AyoconnectVaKey,
    signal: AbortSignal,
    bankCode = bankCodeOfFlow(key.correlationId),
  ): Promise<AyoconnectVaState> {
    const query = statusQuery(key, newTransactionId(), bankCode ?? "");
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
      const created = readVirtualAccountData(
        await call("POST", VA_PATH, correlationId, 201, signal, body).catch((error: unknown) => {
          throw isTransactionIdTaken(error) ? firstAttemptUnreachable() : error;
        }),
      );
      checkVaNumber(created.state.vaNumber);
      const key = { virtualAccountId: created.virtualAccountId, customerId: created.customerId, correlationId };
      return {
        providerAccount: config.merchantCode,
        providerReference: encodeVaKey(key),
        vaNumber: created.state.vaNumber,
        providerVaId: created.virtualAccountId,
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
      let callback: AyoconnectCallback;
      try {
        callback = readCallback(parseJsonObject(rawPayload));
      } catch (error) {
        return rejected(400, `unreadable callback: ${(error as Error).message}`);
      }
      // Legacy callbacks are unsigned: every one is a claim that the core confirms through
      // `confirmPayment` before anything is recorded. Its amount may differ from the bill.
      return {
        kind: "payment",
        notification: notificationOf(config.merchantCode, callback, rawPayload, now()),
        belief: { verified: false, doubt: "unsigned" },
        answer: acknowledge,
      };
    },

    async confirmPayment(
      claim: PaymentNotification,
      signal: AbortSignal,
      context = { firstSeenAt: now() },
    ): Promise<Confirmation> {
      let callback: AyoconnectCallback;
      try {
        callback = readCallback(parseJsonObject(claim.rawPayload));
      } catch (error) {
        return { paid: false, reason: `the claim names no ${AYOCONNECT} VA: ${(error as Error).message}` };
      }
      const shown = await findVirtualAccount(callback.key, signal);
      if (shown === undefined) {
        return { paid: false, reason: `${AYOCONNECT} knows no VA ${callback.key.virtualAccountId} in that flow` };
      }
      if (shown.vaNumber !== callback.vaNumber) {
        return { paid: false, reason: `${AYOCONNECT} shows ${callback.key.virtualAccountId} with another number` };
      }
      if (!PAID_STATES.has(shown.providerStatus)) {
        const shownAs = `${AYOCONNECT} shows ${callback.key.virtualAccountId} as ${shown.providerStatus}`;
        // Ayoconnect never retries a 4xx: while its status may still lag behind the payment, the claim
        // is held (answered 201) and asked about again, and refuted only once the grace has passed.
        if (now().getTime() - context.firstSeenAt.getTime() < STATUS_LAG_GRACE_MS) {
          throw new DomainError("UNAVAILABLE", `${shownAs}, not paid yet`, { provider: AYOCONNECT });
        }
        return { paid: false, reason: shownAs };
      }
      // The status answer shows that the VA took a payment, not which one nor how much: the claimed
      // amount (`paymentDetails.amount`) is recorded, whether or not it equals the bill.
      return {
        paid: true,
        notification: { ...claim, vaNumber: shown.vaNumber, fee: shown.adminFee ?? claim.fee },
      };
    },

    async fetchPayments(va: ProviderVaRef, signal: AbortSignal): Promise<PaymentNotification[]> {
      const key = decodeVaKey(va.providerReference);
      // A multi-payment VA's status shows PAID after the first payment and nothing about any of
      // them; only a single-payment VA's one payment can be read off its state.
      if (!isSinglePaymentFlow(key.correlationId)) return [];
      const state = await queryStatus(key, signal);
      if (!PAID_STATES.has(state.providerStatus)) return [];
      const amount = state.billAmount ?? (state.totalAmount > 0n ? state.totalAmount : undefined);
      if (amount === undefined) {
        throw new DomainError(
          "UNAVAILABLE",
          `${AYOCONNECT} shows open-amount VA ${key.virtualAccountId} paid without the amount; see its settlement report`,
          { provider: AYOCONNECT },
        );
      }
      const at = now();
      return [
        {
          providerAccount: config.merchantCode,
          providerPaymentRef: singlePaymentRef(key.virtualAccountId),
          vaNumber: state.vaNumber,
          amount,
          fee: state.adminFee,
          // The status answer has no payment time; a single-payment VA cannot be paid after expiry.
          paidAt: at.getTime() > state.expiresAt.getTime() ? state.expiresAt : at,
          rawPayload: JSON.stringify({ source: "status", ...statusRecord(state) }),
          providerVaId: key.virtualAccountId,
        },
      ];
    },
  };

  /**
   * The VA a callback names, by the status query in the callback's own flow: undefined when
   * Ayoconnect answers that it has no such VA. A flow we did not start does not tell the bank the
   * query needs, so every bank is asked at once. Any other failure throws: we cannot tell now.
   */
  async function findVirtualAccount(named: AyoconnectVaKey, signal: AbortSignal): Promise<AyoconnectVaState | undefined> {
    const bank = bankCodeOfFlow(named.correlationId);
    const banks = bank === undefined ? AYOCONNECT_BANKS.map((b) => b.ayoconnectCode) : [bank];
    const answers = await Promise.allSettled(banks.map((bankCode) => queryStatus(named, signal, bankCode)));
    const found = answers.find((a) => a.status === "fulfilled");
    if (found) return found.value;
    for (const answer of answers) {
      const error = (answer as PromiseRejectedResult).reason;
      if (!(error instanceof DomainError && error.facts.providerCode === NO_SUCH_VA)) throw unsure(error);
    }
    return undefined;
  }
}

/**
 * Our create's `transactionId` comes from the idempotency key, so `4092400` on it means an earlier
 * attempt with this key made a VA whose answer we never got. The legacy API finds a VA only by
 * `virtualAccountId` + `customerId`, both in that lost answer, so the VA cannot be adopted; issuing a
 * second one would leave the first payable. A payment to it still arrives by callback and is held.
 */
function isTransactionIdTaken(error: unknown): boolean {
  return error instanceof DomainError && error.facts.providerCode === "4092400" && error.facts.field !== "number_suffix";
}

function firstAttemptUnreachable(): DomainError {
  return new DomainError(
    "FAILED_PRECONDITION",
    `idempotency_key: ${AYOCONNECT} already made a virtual account for this key in an attempt whose answer was lost, ` +
      "and its legacy API cannot look that account up; create with a new key (a payment to the lost one is held for operators)",
    { provider: AYOCONNECT, providerCode: "4092400", field: "idempotency_key" },
  );
}

/** Ayoconnect's "Invalid Bill or VA": the one status answer that says the VA does not exist. */
const NO_SUCH_VA = "4042412";

/** Confirmation trouble is never a denial: the core holds the payment and asks again later. */
function unsure(error: unknown): DomainError {
  if (error instanceof DomainError && (error.kind === "UNAVAILABLE" || error.kind === "DEADLINE_EXCEEDED")) return error;
  return new DomainError("UNAVAILABLE", `${AYOCONNECT} could not confirm the payment now: ${(error as Error).message}`, {
    provider: AYOCONNECT,
  });
}

function notificationOf(
  providerAccount: string,
  callback: AyoconnectCallback,
  rawPayload: string,
  receivedAt: Date,
): PaymentNotification {
  return {
    providerAccount,
    providerPaymentRef: callbackPaymentRef(callback.key, callback.trxRefID),
    vaNumber: callback.vaNumber,
    amount: callback.amount,
    fee: callback.adminFee,
    // The legacy callback carries no payment time; it is sent right after the payment.
    paidAt: receivedAt,
    rawPayload,
    providerVaId: callback.key.virtualAccountId,
  };
}

function statusRecord(state: AyoconnectVaState) {
  return {
    virtualAccountNumber: state.vaNumber,
    virtualAccountStatus: state.providerStatus,
    totalAmount: formatRupiah2(state.totalAmount),
    billAmount: state.billAmount === undefined ? undefined : formatRupiah2(state.billAmount),
  };
}

/**
 * Ayoconnect expects 201 and never retries a 4xx (legacy callback page: not after a 40X or 50X
 * either; newer page: retries 5xx after 5 s, 10 s, 30 s). Whatever we hold or recorded is answered
 * 201; only a payment Ayoconnect's own status query denies gets a 400.
 */
function acknowledge(result: RecordingResult): HttpAnswer {
  return result === "REFUTED" || result === "ID_REUSED"
    ? jsonAnswer(400, { responseCode: 400, responseMessage: "Ayoconnect does not confirm this payment" })
    : jsonAnswer(201, { responseCode: 201, responseMessage: "created" });
}

function rejected(status: number, reason: string): WebhookResult {
  return { kind: "rejected", answer: jsonAnswer(status, { responseCode: status, responseMessage: reason }), reason };
}
