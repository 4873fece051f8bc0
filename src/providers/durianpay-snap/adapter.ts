import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { snapAnswer } from "../../protocols/snap/answer.js";
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
  VirtualAccountChanges,
  WebhookResult,
} from "../provider.js";
import type { SnapAdapterSettings } from "../shared/adapter-settings.js";
import { unadoptableVa } from "../shared/lost-create.js";
import { isRecord } from "../shared/wire-helpers.js";
import { DURIANPAY_SNAP } from "./capabilities.js";
import { createDurianpayTokenSource } from "./token.js";
import {
  confirmationFromStatus,
  type DurianpayPaymentStatus,
  fromCreateVaResponse,
  fromStatusResponse,
  paymentsFromStatus,
  readPaymentNotification,
  requestFieldOf,
  toCreateVaRequest,
  toPaymentNotification,
  toStatusRequest,
  toUpdateVaRequest,
  vaKeyOf,
} from "./transformers.js";
import { DURIANPAY_CHANNEL_ID, DurianpaySnapPath, type DurianpaySnapPaths, type DurianpayVaKey } from "./wire.js";

export interface DurianpaySnapConfig extends SnapAdapterSettings {
  /** Scheme and host; the signed paths start at `/v1.0`. Sandbox `https://api-sandbox.durianpay.id`, live `https://api.durianpay.id`. */
  baseUrl: string;
  /** "Client Key": X-CLIENT-KEY of the token request and X-PARTNER-ID of every call; also `providerAccount`. */
  clientKey: string;
  /** "Client Secret Key": HMAC-SHA512 key of the symmetric transaction signature. */
  clientSecret: string;
  /** Our private key; Durianpay verifies our token requests with its public half. */
  privateKey: SnapKey;
  /** "Public Key given by Durianpay (Will be used to verify signature from us)": its notifications. */
  durianpayPublicKey: SnapKey;
  /** Overrides of the VA paths (only token and notification paths are published). */
  paths?: Partial<DurianpaySnapPaths>;
  /** How a VA is cancelled: update-va with `expiredDate` = now (published way to expire), or delete-va. */
  cancelBy?: "update-va" | "delete-va";
  channelId?: string;
  /** The notification path as Durianpay addresses it, when a proxy rewrites paths; by default the path received. */
  callbackPath?: string;
}

export interface DurianpaySnapProvider extends VaProvider {
  getPaymentStatus(va: ProviderVaRef, signal: AbortSignal): Promise<DurianpayPaymentStatus>;
  simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

const svc = SnapService.vaPayment;

/**
 * Durianpay retries anything but 200 OK after 2, 5, 10, 90 and 210 minutes. `200 2002500` for a
 * payment we recorded or hold (it stops); `404 4042512` only when its own status API denies the
 * payment (retried, refuted again each time); `409 4092500` for a used X-EXTERNAL-ID with another body.
 */
const notificationAnswer = snapCallbackAnswers(svc);

export function createDurianpaySnapProvider(config: DurianpaySnapConfig): DurianpaySnapProvider {
  const now = config.now ?? (() => new Date());
  const paths: DurianpaySnapPaths = { ...DurianpaySnapPath, ...config.paths };
  const timeoutMs = config.timeoutMs ?? 15_000;
  const durianpayPublicKey = publicKeyFrom(config.durianpayPublicKey);
  const privateKey = privateKeyFrom(config.privateKey);
  const client = createSnapClient({
    provider: DURIANPAY_SNAP,
    baseUrl: config.baseUrl,
    partnerId: config.clientKey,
    channelId: config.channelId ?? DURIANPAY_CHANNEL_ID,
    signing: {
      kind: "symmetric",
      clientSecret: config.clientSecret,
      accessTokens: createDurianpayTokenSource({
        provider: DURIANPAY_SNAP,
        baseUrl: config.baseUrl,
        path: paths.accessToken,
        clientKey: config.clientKey,
        privateKey,
        timeoutMs,
        now,
      }),
    },
    timeoutMs,
    now,
  });

  async function statusOf(key: DurianpayVaKey, signal: AbortSignal, paymentRequestId?: string) {
    const answer = await client.call({
      method: "POST",
      path: paths.status,
      body: toStatusRequest(key, paymentRequestId),
      signal,
    });
    return { status: fromStatusResponse(answer), answer };
  }

  const update = async (va: ProviderVaRef, changes: VirtualAccountChanges, signal: AbortSignal) => {
    await client.call({ method: "PUT", path: paths.updateVa, body: toUpdateVaRequest(va, changes), signal, requestFieldOf });
  };

  return {
    name: DURIANPAY_SNAP,

    async createVirtualAccount(request: ProviderCreateRequest, signal: AbortSignal): Promise<ProviderVirtualAccount> {
      const body = toCreateVaRequest(request);
      const answer = await client
        .call({ method: "POST", path: paths.createVa, body, signal, requestFieldOf })
        .catch((error: unknown) => {
          // `409 27 01` ("Must be unique"): adopting needs the number Durianpay chose, returned only in the
          // lost answer; no lookup by trxId alone is published.
          throw isSnapRefusal(error, SnapOutcomes.duplicateReference)
            ? unadoptableVa(DURIANPAY_SNAP, request.externalId, error)
            : error;
        });
      return fromCreateVaResponse(answer, body, config.clientKey);
    },

    async cancelVirtualAccount(va: ProviderVaRef, signal: AbortSignal): Promise<void> {
      if (config.cancelBy === "delete-va") {
        await client.call({ method: "DELETE", path: paths.deleteVa, body: vaKeyOf(va), signal });
        return;
      }
      await update(va, { expiresAt: now() }, signal);
    },

    updateVirtualAccount: update,

    getPaymentStatus: async (va, signal) => (await statusOf(vaKeyOf(va), signal)).status,

    async fetchPayments(va: ProviderVaRef, signal: AbortSignal): Promise<PaymentNotification[]> {
      const key = vaKeyOf(va);
      const { status, answer } = await statusOf(key, signal);
      const identity = { providerAccount: config.clientKey, trxId: key.trxId, vaNumber: va.vaNumber };
      return paymentsFromStatus(status, identity, JSON.stringify(answer), now());
    },

    /**
     * Asks the status API about the payment the notification names (its VA number, our trxId and
     * Durianpay's payment id, all in the notification). A VA or payment Durianpay does not know
     * (`404xx01`/`404xx12`) is a denial; a `09` rejected payment is one too (the money goes back).
     */
    async confirmPayment(claim: PaymentNotification, signal: AbortSignal): Promise<Confirmation> {
      const reading = readPaymentNotification(Buffer.from(claim.rawPayload, "utf8"));
      if (!reading.ok) {
        throw new DomainError("UNAVAILABLE", `${DURIANPAY_SNAP} cannot be asked: the notification is unreadable`, {
          provider: DURIANPAY_SNAP,
        });
      }
      const { trxId, virtualAccountNo, paymentRequestId } = reading.payment;
      const key = vaKeyOf({ providerAccount: "", providerReference: `${trxId}.`, vaNumber: virtualAccountNo, bankCode: "" });
      try {
        const { status } = await statusOf(key, signal, paymentRequestId);
        return confirmationFromStatus(claim, paymentRequestId, status);
      } catch (error) {
        if (error instanceof DomainError && error.kind === "NOT_FOUND") {
          return { paid: false, reason: `${DURIANPAY_SNAP} knows no payment ${paymentRequestId} to VA ${virtualAccountNo}` };
        }
        throw error;
      }
    },

    async simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal) {
      const { virtualAccountNo, trxId } = vaKeyOf(va);
      const body = { virtualAccountNo, trxId, amount: toSnapMoney(amount) };
      const answer = await client.call({ method: "POST", path: paths.simulatePayment, body, signal });
      const data = isRecord(answer.virtualAccountData) ? answer.virtualAccountData : {};
      if (typeof data.paymentRequestId !== "string")
        throw new DomainError("UNAVAILABLE", "simulator answered no paymentRequestId");
      return { providerPaymentRef: data.paymentRequestId };
    },

    async receiveWebhook(request: InboundHttpRequest): Promise<WebhookResult> {
      const receivedAt = now();
      const notification = await verifySnapPaymentCallback(request, {
        serviceCode: svc,
        signedPath: config.callbackPath ?? request.path,
        credentialsOf: (partnerId) =>
          partnerId === config.clientKey ? { kind: "asymmetric", publicKey: durianpayPublicKey } : undefined,
        now: receivedAt,
        maxClockSkewMs: config.maxClockSkewMs,
        read: readPaymentNotification,
      });
      if (!notification.ok) return notification.rejected;
      if (notification.payment.status === "REJECTED") {
        // "The payment is rejected, the fund will be refunded to the payor": no money for us, nothing to record.
        return {
          kind: "rejected",
          answer: snapAnswer(SnapOutcomes.successful, svc),
          reason: "payment rejected by Durianpay (09), refunded",
        };
      }
      const rawPayload = request.rawBody.toString("utf8");
      const reported = toPaymentNotification(notification.payment, config.clientKey, rawPayload, receivedAt);
      return callbackPayment(notification.request, reported, notificationAnswer);
    },
  };
}
