import { randomUUID } from "node:crypto";
import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { checkVaNumber } from "../../domain/virtual-account.js";
import { callProvider, parseProviderJson, providerUnavailable } from "../http.js";
import type { ProviderCreateRequest, ProviderVaRef, VaProvider } from "../provider.js";
import { type DokuChannel, type DokuNumbering, findChannel, paymentCodePath } from "./channels.js";
import { receiveDokuNotification } from "./notification.js";
import { isMerchantBin, merchantVaNumber } from "./numbering.js";
import { isSuccess, refusal } from "./refusals.js";
import { dokuTimestamp, signRequest } from "./signature.js";
import {
  DOKU,
  expiredTimeMinutes,
  jsonInteger,
  paymentReference,
  readDokuError,
  readIssuedNumber,
  readSimulatedPayment,
  refusedLocally,
  SIMULATED_PAYMENT_PATH,
  type SimulatedPaymentRequest,
  toDeleteRequest,
  toPaymentCodeRequest,
} from "./transformers.js";

export interface DokuConfig {
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
  timeoutMs?: number;
  now?: () => Date;
}

/** The VaProvider; its payment simulation works against the DOKU simulator only (DOKU has no such API). */
export interface DokuProvider extends VaProvider {
  simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * DOKU's non-SNAP v2 payment-code API. The invoice number is our external id, and each mutating
 * call's Request-Id is derived from it: DOKU answers a repeated Request-Id with the same body by
 * replaying its first answer with HTTP 409, which makes retried creates and cancels idempotent.
 */
export function createDokuProvider(config: DokuConfig): DokuProvider {
  const bin = merchantBin(config);
  const now = config.now ?? (() => new Date());
  const baseUrl = config.baseUrl.replace(/\/+$/, "");
  const pathFor = (channel: DokuChannel) =>
    config.channelPaths?.[channel.bankCode] ?? paymentCodePath(channel, config.mode);

  async function send(
    method: "POST" | "PATCH",
    path: string,
    requestId: string,
    payload: unknown,
    signal: AbortSignal,
  ) {
    const body = JSON.stringify(payload);
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

  return {
    name: DOKU,

    async createVirtualAccount(request, signal) {
      const channel = channelFor(request.bankCode);
      const requestedNumber = numberToRequest(bin, request);
      const expiredMinutes = expiredTimeMinutes(request.expiresAt, now());
      const payload = toPaymentCodeRequest(request, channel, { vaNumber: requestedNumber, expiredMinutes });
      const { response, json } = await send("POST", pathFor(channel), `create-${request.externalId}`, payload, signal);
      const issued = readIssuedNumber(json);
      const answered = isSuccess(response.status) || response.status === 409;
      if (!answered || issued === undefined) throw refusal("create", response, json);
      checkVaNumber(issued);
      if (requestedNumber !== undefined && issued !== requestedNumber) {
        throw new DomainError("UNAVAILABLE", "doku issued another number than the one requested", { provider: DOKU });
      }
      return { providerAccount: config.clientId, providerReference: request.externalId, vaNumber: issued };
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

    async simulatePayment(va, amount, signal) {
      const payload: SimulatedPaymentRequest = {
        virtual_account_number: va.vaNumber,
        amount: jsonInteger(amount, "amount"),
      };
      const { response, json } = await send(
        "POST",
        SIMULATED_PAYMENT_PATH,
        `simulate-${randomUUID()}`,
        payload,
        signal,
      );
      const paid = readSimulatedPayment(json);
      if (!isSuccess(response.status) || paid === undefined) throw refusal("simulate", response, json);
      return { providerPaymentRef: paymentReference(paid.invoiceNumber, paid.referenceNumber) };
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
