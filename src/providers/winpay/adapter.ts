import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { createSnapClient } from "../../protocols/snap/client.js";
import { toSnapMoney } from "../../protocols/snap/money.js";
import { callbackPayment, snapCallbackAnswers, verifySnapPaymentCallback } from "../../protocols/snap/payment-callback.js";
import { isSnapRefusal } from "../../protocols/snap/provider-answer.js";
import { SnapOutcomes, SnapService } from "../../protocols/snap/response-code.js";
import { privateKeyFrom, publicKeyFrom, type SnapKey } from "../../protocols/snap/signature.js";
import type {
  Confirmation,
  InboundHttpRequest,
  PaymentNotification,
  ProviderCreateRequest,
  ProviderVaRef,
  ProviderVirtualAccount,
  VaProvider,
  WebhookResult,
} from "../provider.js";
import type { SnapAdapterSettings } from "../shared/adapter-settings.js";
import { unadoptableVa } from "../shared/lost-create.js";
import {
  confirmationFromStatus,
  decodeReference,
  fromCreateVaResponse,
  fromInquiryVaResponse,
  fromPaymentStatusResponse,
  fromSimulatePaymentResponse,
  paymentsFromStatus,
  readPaymentCallback,
  requestFieldOf,
  toCreateVaRequest,
  toDeleteVaRequest,
  toInquiryVaRequest,
  toPaymentNotification,
  toPaymentStatusRequest,
  WINPAY,
  type WinpayPaymentStatus,
  type WinpayVaDetails,
  type WinpayVaReference,
} from "./transformers.js";
import { WinpayPath, type WinpaySimulatePaymentRequest } from "./wire.js";

export interface WinpayConfig extends SnapAdapterSettings {
  /** Winpay's SNAP base, `/snap` prefix included, e.g. `https://sandbox-snap.winpay.id/snap`. */
  baseUrl: string;
  /** Our X-PARTNER-ID at Winpay; also the `providerAccount` of every VA and payment. */
  partnerId: string;
  /** CHANNEL-ID header; Winpay's samples use `WEB`. */
  channelId?: string;
  /** Our private key; Winpay holds its public half and verifies our requests with it. */
  privateKey: SnapKey;
  /** Winpay's public key, for verifying its payment callbacks. */
  winpayPublicKey: SnapKey;
  /**
   * The callback path as Winpay addresses it, when a proxy in front of us rewrites paths. Winpay
   * signs the full path of the URL it calls; by default the path of the request we received.
   */
  callbackPath?: string;
}

/** The VaProvider plus Winpay's read-only services. */
export interface WinpayProvider extends VaProvider {
  /** inquiry-va: the VA as Winpay keeps it. */
  inquireVirtualAccount(va: ProviderVaRef, signal: AbortSignal): Promise<WinpayVaDetails>;
  /** status: whether the VA has been paid. */
  getPaymentStatus(va: ProviderVaRef, signal: AbortSignal): Promise<WinpayPaymentStatus>;
  simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

/**
 * `{"responseCode":"2002500","responseMessage":"Successful"}` for a payment we recorded or hold; a
 * retry with the same X-EXTERNAL-ID and body gets it again. `4042512` only when Winpay's own API
 * denies the payment, `4092500` for a used X-EXTERNAL-ID with a different body.
 */
const callbackAnswer = snapCallbackAnswers(SnapService.vaPayment);

export function createWinpayProvider(config: WinpayConfig): WinpayProvider {
  const now = config.now ?? (() => new Date());
  const winpayPublicKey = publicKeyFrom(config.winpayPublicKey);
  const client = createSnapClient({
    provider: WINPAY,
    baseUrl: config.baseUrl,
    partnerId: config.partnerId,
    channelId: config.channelId ?? "WEB",
    signing: { kind: "asymmetric", privateKey: privateKeyFrom(config.privateKey) },
    timeoutMs: config.timeoutMs ?? 15_000,
    now,
  });

  async function inquire(reference: WinpayVaReference, signal: AbortSignal): Promise<WinpayVaDetails> {
    const body = toInquiryVaRequest(reference);
    return fromInquiryVaResponse(await client.call({ method: "POST", path: WinpayPath.inquiryVa, body, signal }));
  }

  /** status needs the number exactly as Winpay padded it and the channel: inquiry-va first. */
  async function statusOf(reference: WinpayVaReference, signal: AbortSignal) {
    const details = await inquire(reference, signal);
    const body = toPaymentStatusRequest(reference, details);
    const answer = await client.call({ method: "POST", path: WinpayPath.paymentStatus, body, signal });
    return { status: fromPaymentStatusResponse(answer), answer, details };
  }

  return {
    name: WINPAY,

    async createVirtualAccount(request: ProviderCreateRequest, signal: AbortSignal): Promise<ProviderVirtualAccount> {
      const body = toCreateVaRequest(request, now());
      const answer = await client
        .call({ method: "POST", path: WinpayPath.createVa, body, signal, requestFieldOf })
        .catch((error: unknown) => {
          // `4092701 Duplicate trxId`: adopting needs the `contractId` only the lost answer carried (seed 003:
          // "trxId and contractId not found"), and Winpay offers no lookup by trxId alone.
          throw isSnapRefusal(error, SnapOutcomes.duplicateReference) ? unadoptableVa(WINPAY, request.externalId, error) : error;
        });
      return fromCreateVaResponse(answer, config.partnerId);
    },

    /** delete-va needs the VA number exactly as Winpay padded it, so inquiry-va comes first. */
    async cancelVirtualAccount(va: ProviderVaRef, signal: AbortSignal): Promise<void> {
      const reference = decodeReference(va.providerReference);
      const body = toDeleteVaRequest(reference, await inquire(reference, signal));
      await client.call({ method: "DELETE", path: WinpayPath.deleteVa, body, signal });
    },

    inquireVirtualAccount: (va, signal) => inquire(decodeReference(va.providerReference), signal),

    async getPaymentStatus(va: ProviderVaRef, signal: AbortSignal): Promise<WinpayPaymentStatus> {
      return (await statusOf(decodeReference(va.providerReference), signal)).status;
    },

    async fetchPayments(va: ProviderVaRef, signal: AbortSignal): Promise<PaymentNotification[]> {
      const reference = decodeReference(va.providerReference);
      const { status, answer } = await statusOf(reference, signal);
      const identity = { providerAccount: config.partnerId, contractId: reference.contractId, vaNumber: va.vaNumber };
      return paymentsFromStatus(status, identity, JSON.stringify(answer), now());
    },

    /**
     * Asks the status API about the VA the callback names (its contractId and our trxId, both in
     * the callback). A VA Winpay does not know (`404xx01`) is a denial.
     */
    async confirmPayment(claim: PaymentNotification, signal: AbortSignal): Promise<Confirmation> {
      const reading = readPaymentCallback(Buffer.from(claim.rawPayload, "utf8"));
      const trxId = reading.ok ? reading.payment.trxId : undefined;
      if (!reading.ok || trxId === undefined) {
        throw new DomainError("UNAVAILABLE", `${WINPAY} cannot be asked: the callback names no trxId`, { provider: WINPAY });
      }
      const { contractId } = reading.payment;
      try {
        const { status } = await statusOf({ contractId, trxId }, signal);
        return confirmationFromStatus(claim, reading.payment, status);
      } catch (error) {
        if (error instanceof DomainError && error.kind === "NOT_FOUND") {
          return { paid: false, reason: `${WINPAY} knows no VA ${contractId} with trxId ${trxId}` };
        }
        throw error;
      }
    },

    async simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal) {
      const { contractId } = decodeReference(va.providerReference);
      const body: WinpaySimulatePaymentRequest = { contractId, amount: toSnapMoney(amount) };
      const answer = await client.call({ method: "POST", path: WinpayPath.simulatePayment, body, signal });
      return { providerPaymentRef: fromSimulatePaymentResponse(answer, contractId) };
    },

    async receiveWebhook(request: InboundHttpRequest): Promise<WebhookResult> {
      const receivedAt = now();
      const callback = await verifySnapPaymentCallback(request, {
        serviceCode: SnapService.vaPayment,
        signedPath: config.callbackPath ?? request.path,
        credentialsOf: () => ({ kind: "asymmetric", publicKey: winpayPublicKey }),
        now: receivedAt,
        maxClockSkewMs: config.maxClockSkewMs,
        read: readPaymentCallback,
      });
      if (!callback.ok) return callback.rejected;
      const rawPayload = request.rawBody.toString("utf8");
      const notification = toPaymentNotification(callback.payment, config.partnerId, rawPayload, receivedAt);
      return callbackPayment(callback.request, notification, callbackAnswer);
    },
  };
}
