import { randomBytes } from "node:crypto";
import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { createAccessTokenClient } from "../../protocols/snap/access-token-client.js";
import { SnapHeader, snapTransactionHeaders } from "../../protocols/snap/headers.js";
import { toSnapMoney } from "../../protocols/snap/money.js";
import { callbackPayment, snapCallbackAnswers, verifySnapPaymentCallback } from "../../protocols/snap/payment-callback.js";
import { isSnapRefusal, readSnapAnswer } from "../../protocols/snap/provider-answer.js";
import { SnapOutcomes } from "../../protocols/snap/response-code.js";
import { privateKeyFrom, publicKeyFrom, type SnapKey, signSymmetric } from "../../protocols/snap/signature.js";
import { formatSnapTimestamp } from "../../protocols/snap/timestamp.js";
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
import { callProvider } from "../shared/http.js";
import { unadoptableVa } from "../shared/lost-create.js";
import {
  confirmationFromInquiry,
  decodeReference,
  fromCreateVaResponse,
  fromInquiryVaResponse,
  paymentReference,
  paymentsFromInquiry,
  readPaymentCallback,
  requestFieldOf,
  toCreateVaRequest,
  toInquiryVaRequest,
  toPaymentNotification,
  toUpdateVaRequest,
  type VaDetails,
} from "./transformers.js";
import {
  AYOCONNECT_SNAP,
  type AyoconnectSnapPaths,
  AyoconnectSnapService,
  type AyoconnectSnapSimulatePaymentRequest,
  DEFAULT_AYOCONNECT_SNAP_PATHS,
  encodeSignature,
  SIMULATE_PAYMENT_PATH,
  type SignatureEncoding,
  signatureAsBase64,
} from "./wire.js";

export interface AyoconnectSnapConfig extends SnapAdapterSettings {
  /** Scheme and host (plus any prefix) before the SNAP paths, e.g. `https://sandbox.api.of.ayoconnect.id`. */
  baseUrl: string;
  /** X-CLIENT-KEY of the B2B token request. */
  clientId: string;
  /** HMAC-SHA512 key of the symmetric transaction signature. */
  clientSecret: string;
  /** X-PARTNER-ID: the 6-alphanumeric merchant id; also the `providerAccount` of every VA and payment. */
  partnerId: string;
  /** CHANNEL-ID [assumption: Ayoconnect documents the header, not its value; default `95221`, our choice]. */
  channelId?: string;
  /** Our private key, signing the B2B token request. */
  privateKey: SnapKey;
  /**
   * Ayoconnect's public key, verifying its payment callbacks [assumption: the callback is signed the
   * SNAP notification way, SHA256withRSA over `POST:<path>:<sha256(body)>:<X-TIMESTAMP>`].
   */
  ayoconnectPublicKey: SnapKey;
  /** The callback path as Ayoconnect addresses it, when a proxy rewrites paths; default the received path. */
  callbackPath?: string;
  /** X-SIGNATURE encoding, base64 (SNAP standard, default) or hex; see `wire.ts`. */
  signatureEncoding?: SignatureEncoding;
  /** Overrides of the SNAP standard paths, which Ayoconnect's docs do not print. */
  paths?: Partial<AyoconnectSnapPaths>;
}

export interface AyoconnectSnapProvider extends VaProvider {
  /** Inquiry VA: the most recent VA with this VA's number, as Ayoconnect keeps it. */
  inquireVirtualAccount(va: ProviderVaRef, signal: AbortSignal): Promise<VaDetails>;
  updateVirtualAccount(va: ProviderVaRef, changes: VirtualAccountChanges, signal: AbortSignal): Promise<void>;
  confirmPayment(claim: PaymentNotification, signal: AbortSignal, context?: { firstSeenAt: Date }): Promise<Confirmation>;
  fetchPayments(va: ProviderVaRef, signal: AbortSignal): Promise<PaymentNotification[]>;
  /** Our simulator's route only; Ayoconnect has no payment-simulation API. */
  simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

/**
 * How long an unpaid Inquiry VA answer is taken for lag rather than a denial (our choice, as for the
 * legacy provider): Ayoconnect never retries a callback we refuse with a 4xx.
 */
export const STATUS_LAG_GRACE_MS = 15 * 60_000;

/**
 * `200 2002500` for a payment we recorded or hold ("respond with HTTP 2xx"); `404 4042512` only when
 * Inquiry VA denies it and `409 4092500` for a reused X-EXTERNAL-ID with another body. Ayoconnect
 * never retries a 4xx.
 */
const callbackAnswer = snapCallbackAnswers(AyoconnectSnapService.payment);

/** X-EXTERNAL-ID: "32 alphanumeric characters", unique per request attempt. */
const newExternalId = () => randomBytes(16).toString("hex");

export function createAyoconnectSnapProvider(config: AyoconnectSnapConfig): AyoconnectSnapProvider {
  const now = config.now ?? (() => new Date());
  const paths = { ...DEFAULT_AYOCONNECT_SNAP_PATHS, ...config.paths };
  const encoding = config.signatureEncoding ?? "base64";
  const timeoutMs = config.timeoutMs ?? 15_000;
  const ayoconnectKey = publicKeyFrom(config.ayoconnectPublicKey);
  const tokens = createAccessTokenClient({
    provider: AYOCONNECT_SNAP,
    baseUrl: config.baseUrl,
    clientId: config.clientId,
    privateKey: privateKeyFrom(config.privateKey),
    timeoutMs,
    path: paths.accessToken,
    now,
  });

  /**
   * One signed call. Not the shared SnapClient: Ayoconnect wants 32-alphanumeric X-EXTERNAL-IDs (the
   * shared one writes 30 digits), the create's id comes back as its `referenceNo`, and the signature
   * may have to be hex; the pieces (token, HMAC, headers, answer reading) are the shared ones.
   */
  async function call(method: "POST" | "PUT", path: string, body: unknown, signal: AbortSignal) {
    const rawBody = JSON.stringify(body);
    const timestamp = formatSnapTimestamp(now());
    const accessToken = await tokens.token(signal);
    const signature = signSymmetric({ method, path, body: rawBody, timestamp }, accessToken, config.clientSecret);
    const response = await callProvider({
      provider: AYOCONNECT_SNAP,
      method,
      url: config.baseUrl + path,
      headers: snapTransactionHeaders({
        timestamp,
        signature: encodeSignature(signature, encoding),
        accessToken,
        partnerId: config.partnerId,
        externalId: newExternalId(),
        channelId: config.channelId ?? "95221",
      }),
      body: rawBody,
      timeoutMs,
      signal,
    });
    try {
      return readSnapAnswer(AYOCONNECT_SNAP, response, requestFieldOf);
    } catch (error) {
      // `401xx01` Invalid Token: fetch a new one next time.
      if (isSnapRefusal(error, SnapOutcomes.invalidToken)) tokens.invalidate();
      throw error;
    }
  }

  async function inquire(va: ProviderVaRef, signal: AbortSignal) {
    const reference = decodeReference(va.providerReference);
    const answer = await call("POST", paths.inquiryVa, toInquiryVaRequest(reference, va.vaNumber), signal);
    return { reference, details: fromInquiryVaResponse(answer), answer };
  }

  return {
    name: AYOCONNECT_SNAP,

    async createVirtualAccount(request: ProviderCreateRequest, signal: AbortSignal): Promise<ProviderVirtualAccount> {
      const body = toCreateVaRequest(request, now());
      const answer = await call("POST", paths.createVa, body, signal).catch((error: unknown) => {
        // A retried create meets `409xx00`/`409xx01` [assumption: Ayoconnect refuses a repeated trxId as "The
        // reference ID already exists for another request"]; Inquiry VA needs the number only the lost answer had.
        if (!isSnapRefusal(error, SnapOutcomes.conflict, SnapOutcomes.duplicateReference)) throw error;
        throw unadoptableVa(AYOCONNECT_SNAP, body.trxId, error, "cannot look it up without its number", {
          field: "idempotency_key",
        });
      });
      return fromCreateVaResponse(answer, body, config.partnerId);
    },

    async cancelVirtualAccount(): Promise<void> {
      throw new DomainError("FAILED_PRECONDITION", `${AYOCONNECT_SNAP} has no way to cancel a VA (no delete-va)`, {
        provider: AYOCONNECT_SNAP,
      });
    },

    inquireVirtualAccount: async (va, signal) => (await inquire(va, signal)).details,

    /** Update VA re-sends the whole VA, so the current one is read first (name, type, amount, expiry). */
    async updateVirtualAccount(va: ProviderVaRef, changes: VirtualAccountChanges, signal: AbortSignal): Promise<void> {
      const { reference, details } = await inquire(va, signal);
      if (details.trxId !== reference.trxId) {
        throw new DomainError("FAILED_PRECONDITION", `${AYOCONNECT_SNAP} now holds a newer VA with this number`, {
          provider: AYOCONNECT_SNAP,
        });
      }
      const amount = changes.amount === undefined ? undefined : changes.amount.type === "FIXED" ? changes.amount.amount : "OPEN";
      const body = toUpdateVaRequest(reference, va.vaNumber, details, {
        ...(amount === undefined ? {} : { amount }),
        ...(changes.expiresAt === undefined ? {} : { expiresAt: changes.expiresAt }),
      });
      await call("PUT", paths.updateVa, body, signal);
    },

    /**
     * Inquiry VA shows the VA's latest payment only: on a multi-payment VA, an earlier payment whose
     * callback was lost is found only if a poll saw it before the next payment (the T+2 settlement
     * report is the backstop).
     */
    async fetchPayments(va: ProviderVaRef, signal: AbortSignal): Promise<PaymentNotification[]> {
      const { reference, details, answer } = await inquire(va, signal);
      return paymentsFromInquiry(
        details,
        { ...va, providerAccount: config.partnerId, trxId: reference.trxId },
        JSON.stringify(answer),
      );
    },

    async confirmPayment(
      claim: PaymentNotification,
      signal: AbortSignal,
      context?: { firstSeenAt: Date },
    ): Promise<Confirmation> {
      const reading = readPaymentCallback(Buffer.from(claim.rawPayload, "utf8"));
      if (!reading.ok || reading.payment.trxId === undefined) {
        throw new DomainError("UNAVAILABLE", `${AYOCONNECT_SNAP} cannot be asked: the callback names no trxId`, {
          provider: AYOCONNECT_SNAP,
        });
      }
      const callback = reading.payment;
      const answer = await call(
        "POST",
        paths.inquiryVa,
        {
          partnerServiceId: callback.partnerServiceId,
          customerNo: callback.customerNo,
          virtualAccountNo: callback.virtualAccountNo,
          trxId: callback.trxId,
        },
        signal,
      ).catch((error: unknown) => {
        if (error instanceof DomainError && error.kind === "NOT_FOUND" && pastGrace(context?.firstSeenAt)) return undefined;
        throw error;
      });
      if (answer === undefined) return { paid: false, reason: `${AYOCONNECT_SNAP} knows no such VA` };
      const details = fromInquiryVaResponse(answer);
      return confirmationFromInquiry(claim, callback, details, context?.firstSeenAt ?? now(), now(), STATUS_LAG_GRACE_MS);
    },

    async simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal) {
      const { trxId } = decodeReference(va.providerReference);
      const body: AyoconnectSnapSimulatePaymentRequest = { trxId, amount: toSnapMoney(amount) };
      const answer = await call("POST", SIMULATE_PAYMENT_PATH, body, signal);
      const paidAt = typeof answer.latestPaidTime === "string" ? new Date(answer.latestPaidTime) : undefined;
      if (!paidAt || Number.isNaN(paidAt.getTime())) {
        throw new DomainError("UNAVAILABLE", `${AYOCONNECT_SNAP} simulator answered without latestPaidTime`, {
          provider: AYOCONNECT_SNAP,
        });
      }
      return { providerPaymentRef: paymentReference(trxId, paidAt) };
    },

    async receiveWebhook(request: InboundHttpRequest): Promise<WebhookResult> {
      const receivedAt = now();
      const received = request.headers[SnapHeader.signature];
      const asBase64 = received === undefined ? undefined : (signatureAsBase64(received, encoding) ?? "");
      const callback = await verifySnapPaymentCallback(
        { ...request, headers: { ...request.headers, [SnapHeader.signature]: asBase64 } },
        {
          serviceCode: AyoconnectSnapService.payment,
          signedPath: config.callbackPath ?? request.path,
          // The callback's X-PARTNER-ID is undocumented: any, as long as Ayoconnect's key signed it.
          credentialsOf: () => ({ kind: "asymmetric", publicKey: ayoconnectKey }),
          now: receivedAt,
          maxClockSkewMs: config.maxClockSkewMs,
          read: readPaymentCallback,
          unreadableReason: "body is not a callback",
        },
      );
      if (!callback.ok) return callback.rejected;
      const notification = toPaymentNotification(callback.payment, config.partnerId, request.rawBody.toString("utf8"));
      return callbackPayment(callback.request, notification, callbackAnswer);
    },
  };

  function pastGrace(firstSeenAt: Date | undefined): boolean {
    return firstSeenAt !== undefined && now().getTime() - firstSeenAt.getTime() >= STATUS_LAG_GRACE_MS;
  }
}
