import { randomUUID } from "node:crypto";
import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { checkVaNumber } from "../../domain/virtual-account.js";
import type { PaymentNotification, ProviderCreateRequest, ProviderVaRef, VaProvider } from "../provider.js";
import type { AdapterSettings } from "../shared/adapter-settings.js";
import { callProvider, parseProviderJson, providerUnavailable } from "../shared/http.js";
import { type DokuChannel, type DokuNumbering, findChannel, paymentCodePath } from "./channels.js";
import { isSuccess, refusal } from "./errors.js";
import { receiveDokuNotification } from "./notification.js";
import { isMerchantBin, merchantVaNumber } from "./numbering.js";
import { dokuTimestamp, signRequest } from "./signature.js";
import {
  checkStatusPath,
  DOKU,
  type DokuPayment,
  expiredTimeMinutes,
  jsonInteger,
  type NotificationReading,
  readDokuError,
  readIssuedNumber,
  readSimulatedPayment,
  readTransaction,
  refusedLocally,
  SIMULATED_PAYMENT_PATH,
  type SimulatedPaymentRequest,
  toDeleteRequest,
  toPaymentCodeRequest,
  valueAt,
} from "./transformers.js";

export interface DokuConfig extends AdapterSettings {
  /** `https://api-sandbox.doku.com`, `https://api.doku.com`, or a simulator. */
  baseUrl: string;
  clientId: string;
  secretKey: string;
  mode: DokuNumbering;
  /** Our BIN for merchant-generated numbers (MGPC only): 5 digits (Direct) or 9+ (DOKU Exclusive). */
  bin?: string;
  /** Endpoint path per bank code, replacing DOKU's default for the mode. */
  channelPaths?: Readonly<Record<string, string>>;
  /** Path of the Notification URL registered at DOKU, which DOKU signs; see `NotificationVerifier`. */
  notificationPath?: string;
}

/** The VaProvider; its payment simulation works against the DOKU simulator only (DOKU has no such API). */
export interface DokuProvider extends VaProvider {
  simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

interface DokuStatus {
  reading: Exclude<NotificationReading, { kind: "invalid" }>;
  json: unknown;
  rawPayload: string;
}

/**
 * DOKU's non-SNAP v2 payment-code API. The invoice number is our external id, and each mutating
 * call's Request-Id is derived from it: DOKU answers a repeated Request-Id with the same body by
 * replaying its first answer with HTTP 409 (DOKU "Idempotency Request"). Check status
 * (`GET /orders/v1/status/{invoice}`) confirms doubtful notifications, finds payments whose
 * notification never came, and finds the payment code a create with a lost answer made.
 */
export function createDokuProvider(config: DokuConfig): DokuProvider {
  const bin = merchantBin(config);
  const now = config.now ?? (() => new Date());
  const baseUrl = config.baseUrl.replace(/\/+$/, "");
  const pathFor = (channel: DokuChannel) => config.channelPaths?.[channel.bankCode] ?? paymentCodePath(channel, config.mode);

  async function send(method: "GET" | "POST" | "PATCH", path: string, requestId: string, payload: unknown, signal: AbortSignal) {
    const body = method === "GET" ? undefined : JSON.stringify(payload);
    const requestTimestamp = dokuTimestamp(now());
    const parts = { clientId: config.clientId, requestId, requestTimestamp, requestTarget: path, body };
    const response = await callProvider({
      provider: DOKU,
      method,
      url: baseUrl + path,
      headers: {
        "Client-Id": config.clientId,
        "Request-Id": requestId,
        "Request-Timestamp": requestTimestamp,
        Signature: signRequest(parts, config.secretKey),
      },
      body,
      timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal,
    });
    if (response.status >= 500) throw providerUnavailable(DOKU, response);
    return { response, json: parseProviderJson(DOKU, response) };
  }

  /** DOKU's check status for one invoice; `undefined` when DOKU has no transaction for it. */
  async function checkStatus(invoiceNumber: string, signal: AbortSignal): Promise<DokuStatus | undefined> {
    const { response, json } = await send("GET", checkStatusPath(invoiceNumber), `status-${randomUUID()}`, undefined, signal);
    if (response.status === 404) return undefined;
    if (!isSuccess(response.status)) throw providerUnavailable(DOKU, response);
    const reading = readTransaction(json, response.text);
    if (reading.kind === "invalid") throw providerUnavailable(DOKU, response);
    return { reading, json, rawPayload: response.text };
  }

  const reported = (payment: DokuPayment, rawPayload: string): PaymentNotification => ({
    providerAccount: config.clientId,
    providerPaymentRef: payment.providerPaymentRef,
    vaNumber: payment.vaNumber,
    amount: payment.amount,
    fee: undefined,
    paidAt: payment.paidAt,
    rawPayload,
    providerVaId: payment.invoiceNumber,
  });

  /**
   * A create whose first answer was lost is retried with the same Request-Id, but its body differs
   * (`expired_time` counts minutes from now), so DOKU cannot replay: it refuses the invoice number or
   * the reused Request-Id. The payment code the lost attempt made is then found by its invoice number,
   * which is ours alone (derived from the caller's idempotency key).
   */
  async function adoptEarlierAttempt(
    request: ProviderCreateRequest,
    channel: DokuChannel,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const status = await checkStatus(request.externalId, signal);
    if (status === undefined) return undefined;
    // Only the code this very request made is adopted; another request under the invoice stays refused.
    const channelId = valueAt(status.json, "channel", "id");
    if (typeof channelId === "string" && channelId !== channel.channelId) return undefined;
    const amount = valueAt(status.json, "order", "amount");
    const bill = request.amount.type === "FIXED" ? jsonInteger(request.amount.amount, "amount.fixed.amount") : undefined;
    if (bill !== undefined && amount !== bill) return undefined;
    return readIssuedNumber(status.json);
  }

  return {
    name: DOKU,

    async createVirtualAccount(request, signal) {
      const channel = channelFor(request.bankCode);
      const requestedNumber = numberToRequest(bin, request);
      const expiredMinutes = expiredTimeMinutes(request.expiresAt, now());
      const payload = toPaymentCodeRequest(request, channel, { vaNumber: requestedNumber, expiredMinutes });
      const { response, json } = await send("POST", pathFor(channel), `create-${request.externalId}`, payload, signal);
      let issued = readIssuedNumber(json);
      const answered = isSuccess(response.status) || response.status === 409;
      if (answered && issued === undefined && response.status === 409) {
        issued = await adoptEarlierAttempt(request, channel, signal);
      }
      if (!answered || issued === undefined) throw refusal("create", response, json);
      checkVaNumber(issued);
      if (requestedNumber !== undefined && issued !== requestedNumber) {
        throw new DomainError("UNAVAILABLE", "doku issued another number than the one requested", { provider: DOKU });
      }
      // DOKU's notifications and check status name the payment code by its invoice number.
      return {
        providerAccount: config.clientId,
        providerReference: request.externalId,
        vaNumber: issued,
        providerVaId: request.externalId,
      };
    },

    async cancelVirtualAccount(va, signal) {
      const channel = channelFor(va.bankCode);
      if (!channel.canCancel) {
        throw new DomainError(
          "FAILED_PRECONDITION",
          `doku cannot cancel payment codes at ${channel.bankCode}: the VA stays payable at DOKU until it expires`,
          { provider: DOKU },
        );
      }
      const requestId = `cancel-${va.providerReference}`;
      const { response, json } = await send("PATCH", pathFor(channel), requestId, toDeleteRequest(va), signal);
      const replayed = response.status === 409 && readDokuError(json) === undefined;
      if (!isSuccess(response.status) && !replayed) throw refusal("cancel", response, json);
    },

    async receiveWebhook(request) {
      return receiveDokuNotification(request, {
        clientId: config.clientId,
        secretKey: config.secretKey,
        notificationPath: config.notificationPath,
        now,
      });
    },

    /**
     * Check status answers one transaction per invoice: for a reusable payment code, its latest
     * payment only (DOKU documents no list of payments per code).
     */
    async fetchPayments(va, signal) {
      const status = await checkStatus(va.providerReference, signal);
      if (status?.reading.kind !== "payment") return [];
      return [reported(status.reading.payment, status.rawPayload)];
    },

    /**
     * Confirms a notification that was signed with our key but is not fresh. DOKU's check status
     * decides: SUCCESS for the same invoice and number confirms it (with DOKU's amount when the
     * status names this very payment); anything else denies it for now, and DOKU retries a denied
     * notification on its schedule, so a status that was not final yet is asked again.
     */
    async confirmPayment(claim, signal) {
      const invoiceNumber = claim.providerVaId ?? claim.providerPaymentRef.split("#")[0] ?? "";
      const status = await checkStatus(invoiceNumber, signal);
      if (status === undefined) return { paid: false, reason: `DOKU has no transaction for invoice ${invoiceNumber}` };
      const { reading } = status;
      if (reading.kind !== "payment") {
        return {
          paid: false,
          reason: `DOKU's check status for invoice ${invoiceNumber} is ${reading.kind === "not-a-payment" ? reading.status : "unreadable"}`,
        };
      }
      if (reading.payment.vaNumber !== claim.vaNumber) {
        return { paid: false, reason: `DOKU's invoice ${invoiceNumber} was paid to another number` };
      }
      if (reading.payment.providerPaymentRef === claim.providerPaymentRef) {
        return { paid: true, notification: reported(reading.payment, status.rawPayload) };
      }
      // A reusable code whose latest payment is another one: the claim itself is DOKU's signed word.
      return { paid: true, notification: claim };
    },

    async simulatePayment(va, amount, signal) {
      const payload: SimulatedPaymentRequest = {
        virtual_account_number: va.vaNumber,
        amount: jsonInteger(amount, "amount"),
      };
      const { response, json } = await send("POST", SIMULATED_PAYMENT_PATH, `simulate-${randomUUID()}`, payload, signal);
      const paid = readSimulatedPayment(response.text);
      if (!isSuccess(response.status) || paid === undefined) throw refusal("simulate", response, json);
      return { providerPaymentRef: paid.providerPaymentRef };
    },
  };
}

function merchantBin(config: DokuConfig): string | undefined {
  if (config.mode === "DGPC") {
    if (config.bin !== undefined) throw new Error("doku: a BIN is only used in MGPC mode");
    return undefined;
  }
  if (config.bin === undefined || !isMerchantBin(config.bin)) {
    throw new Error("doku: MGPC needs a 5-digit Direct BIN or a DOKU Exclusive BIN of 9 to 22 digits");
  }
  return config.bin;
}

/** MGPC: our BIN and the suffix (or digits derived from the external id); DGPC: none, DOKU picks. */
function numberToRequest(bin: string | undefined, request: ProviderCreateRequest): string | undefined {
  if (bin !== undefined) return merchantVaNumber(bin, request.numberSuffix, request.externalId);
  if (request.numberSuffix !== "") throw refusedLocally("number_suffix", "DOKU picks the whole number in DGPC mode");
  return undefined;
}

function channelFor(bankCode: string): DokuChannel {
  const channel = findChannel(bankCode);
  if (channel === undefined) throw refusedLocally("bank_code", `DOKU has no VA channel for ${bankCode}`);
  return channel;
}
