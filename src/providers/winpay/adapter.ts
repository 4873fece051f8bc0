import type { Rupiah } from "../../domain/money.js";
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
import { badFieldAnswer, missingFieldAnswer, snapAnswer } from "../snap/answer.js";
import { createSnapClient } from "../snap/client.js";
import { type ExternalIdStore, InMemoryExternalIdStore } from "../snap/external-id-store.js";
import { verifyInboundSnapRequest } from "../snap/inbound-request.js";
import { toSnapMoney } from "../snap/money.js";
import { SnapOutcomes, SnapService } from "../snap/response-code.js";
import { privateKeyFrom, publicKeyFrom, type SnapKey } from "../snap/signature.js";
import { jakartaDay } from "../snap/timestamp.js";
import {
  type CallbackReading,
  decodeReference,
  fromCreateVaResponse,
  fromInquiryVaResponse,
  fromPaymentStatusResponse,
  fromSimulatePaymentResponse,
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
} from "./transformers.js";
import { WinpayPath, type WinpaySimulatePaymentRequest } from "./wire.js";

export interface WinpayConfig {
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
  /** Replay guard for callback X-EXTERNAL-IDs; in-memory unless a shared store is given. */
  externalIds?: ExternalIdStore;
  timeoutMs?: number;
  maxClockSkewMs?: number;
  now?: () => Date;
}

/** The VaProvider plus Winpay's read-only services. */
export interface WinpayProvider extends VaProvider {
  /** inquiry-va: the VA as Winpay keeps it. */
  inquireVirtualAccount(va: ProviderVaRef, signal: AbortSignal): Promise<WinpayVaDetails>;
  /** status: whether the VA has been paid. */
  getPaymentStatus(va: ProviderVaRef, signal: AbortSignal): Promise<WinpayPaymentStatus>;
  simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

const CALLBACK_ACKNOWLEDGED = snapAnswer(SnapOutcomes.successful, SnapService.vaPayment);
const CALLBACK_FOR_UNKNOWN_VA = snapAnswer(SnapOutcomes.invalidBill, SnapService.vaPayment);

export function createWinpayProvider(config: WinpayConfig): WinpayProvider {
  const now = config.now ?? (() => new Date());
  const winpayPublicKey = publicKeyFrom(config.winpayPublicKey);
  const externalIds = config.externalIds ?? new InMemoryExternalIdStore();
  const client = createSnapClient({
    provider: WINPAY,
    baseUrl: config.baseUrl,
    partnerId: config.partnerId,
    channelId: config.channelId ?? "WEB",
    signing: { kind: "asymmetric", privateKey: privateKeyFrom(config.privateKey) },
    timeoutMs: config.timeoutMs ?? 15_000,
    now,
  });

  async function inquire(va: ProviderVaRef, signal: AbortSignal): Promise<WinpayVaDetails> {
    const body = toInquiryVaRequest(decodeReference(va.providerReference));
    return fromInquiryVaResponse(await client.call({ method: "POST", path: WinpayPath.inquiryVa, body, signal }));
  }

  return {
    name: WINPAY,

    async createVirtualAccount(request: ProviderCreateRequest, signal: AbortSignal): Promise<ProviderVirtualAccount> {
      const body = toCreateVaRequest(request, now());
      const answer = await client.call({ method: "POST", path: WinpayPath.createVa, body, signal, requestFieldOf });
      return fromCreateVaResponse(answer, config.partnerId);
    },

    /** delete-va needs the VA number exactly as Winpay padded it, so inquiry-va comes first. */
    async cancelVirtualAccount(va: ProviderVaRef, signal: AbortSignal): Promise<void> {
      const details = await inquire(va, signal);
      const body = toDeleteVaRequest(decodeReference(va.providerReference), details);
      await client.call({ method: "DELETE", path: WinpayPath.deleteVa, body, signal });
    },

    inquireVirtualAccount: inquire,

    async getPaymentStatus(va: ProviderVaRef, signal: AbortSignal): Promise<WinpayPaymentStatus> {
      const details = await inquire(va, signal);
      const body = toPaymentStatusRequest(decodeReference(va.providerReference), details);
      return fromPaymentStatusResponse(
        await client.call({ method: "POST", path: WinpayPath.paymentStatus, body, signal }),
      );
    },

    async simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal) {
      const { contractId } = decodeReference(va.providerReference);
      const body: WinpaySimulatePaymentRequest = { contractId, amount: toSnapMoney(amount) };
      const answer = await client.call({ method: "POST", path: WinpayPath.simulatePayment, body, signal });
      return { providerPaymentRef: fromSimulatePaymentResponse(answer, contractId) };
    },

    async receiveWebhook(request: InboundHttpRequest): Promise<WebhookResult> {
      const receivedAt = now();
      const verdict = await verifyInboundSnapRequest(request, {
        serviceCode: SnapService.vaPayment,
        signedPath: config.callbackPath ?? request.path,
        credentialsOf: () => ({ kind: "asymmetric", publicKey: winpayPublicKey }),
        externalIds,
        now: receivedAt,
        maxClockSkewMs: config.maxClockSkewMs,
      });
      if (!verdict.ok) return { kind: "rejected", answer: verdict.answer, reason: verdict.reason };

      const reading = readPaymentCallback(request.rawBody);
      if (!reading.ok) return { kind: "rejected", ...callbackRefusal(reading) };
      const rawPayload = request.rawBody.toString("utf8");
      const { partnerId, externalId, timestamp } = verdict.request;
      return {
        kind: "payment",
        notification: toPaymentNotification(reading.payment, config.partnerId, rawPayload, receivedAt),
        answer: callbackAnswer,
        abandon: () => externalIds.release(partnerId, jakartaDay(timestamp), externalId),
      };
    },
  };
}

/** `400 25 00` for a body that is not a JSON object, `400 25 02`/`01` for a missing/malformed field. */
function callbackRefusal(reading: Exclude<CallbackReading, { ok: true }>): { answer: HttpAnswer; reason: string } {
  const svc = SnapService.vaPayment;
  if (reading.problem === "unreadable") {
    return { answer: snapAnswer(SnapOutcomes.badRequest, svc), reason: "body is not a JSON object" };
  }
  const answer = reading.problem === "missing" ? missingFieldAnswer(svc, reading.field) : badFieldAnswer(svc, reading.field);
  return { answer, reason: `${reading.problem} ${reading.field}` };
}

/** `{"responseCode":"2002500","responseMessage":"Successful"}` for a payment we hold. */
function callbackAnswer(result: RecordingResult): HttpAnswer {
  return result === "UNKNOWN_VIRTUAL_ACCOUNT" ? CALLBACK_FOR_UNKNOWN_VA : CALLBACK_ACKNOWLEDGED;
}
