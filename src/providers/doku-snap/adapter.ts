import { DomainError } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { createAccessTokenClient } from "../../protocols/snap/access-token-client.js";
import { createAccessTokenIssuer, readIssuedToken } from "../../protocols/snap/access-token-issuer.js";
import { createSnapClient } from "../../protocols/snap/client.js";
import { bearerToken, SnapHeader } from "../../protocols/snap/headers.js";
import { verifyInboundSnapRequest } from "../../protocols/snap/inbound-request.js";
import { toSnapMoney } from "../../protocols/snap/money.js";
import { callbackPayment, snapCallbackAnswers, verifySnapPaymentCallback } from "../../protocols/snap/payment-callback.js";
import { isSnapRefusal, requestFieldsFrom } from "../../protocols/snap/provider-answer.js";
import { SnapOutcomes, SnapService } from "../../protocols/snap/response-code.js";
import { privateKeyFrom, publicKeyFrom, type SnapKey } from "../../protocols/snap/signature.js";
import { padPartnerServiceId, payerDigits, splitVirtualAccountNo } from "../../protocols/snap/va-number.js";
import type {
  Confirmation,
  HttpAnswer,
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
import { isRecord } from "../shared/wire-helpers.js";
import { answerOf, type DipcInquiries, INQUIRY_FAILED, readDipcInquiry } from "./dipc.js";
import {
  confirmationFromStatus,
  DOKU_SNAP,
  type DokuSnapMode,
  type DokuSnapReference,
  type DokuStatus,
  decodeReference,
  encodeReference,
  fromCheckStatusResponse,
  fromCreateVaResponse,
  paymentReference,
  paymentsFromStatus,
  readPaymentNotification,
  toCheckStatusRequest,
  toCreateVaRequest,
  toDeleteVaRequest,
  toPaymentNotification,
  toUpdateVaRequest,
  trxTypeOf,
} from "./transformers.js";
import { type DokuSimulatePaymentRequest, DokuSnapInbound, DokuSnapPath } from "./wire.js";

export interface DokuSnapConfig extends SnapAdapterSettings {
  /** `https://api-sandbox.doku.com`, `https://api.doku.com`, or a simulator. */
  baseUrl: string;
  /** Our Client ID at DOKU: X-PARTNER-ID and X-CLIENT-KEY, and the `providerAccount` of every VA. */
  clientId: string;
  /** Our Secret Key: the HMAC-SHA512 key of every transaction signature, both ways. */
  secretKey: string;
  /** Our private key: signs our B2B token requests (DOKU holds the public half). */
  privateKey: SnapKey;
  /** DOKU's public key: verifies DOKU's token requests to us. */
  dokuPublicKey: SnapKey;
  /** MAC key of the tokens we issue DOKU (at least 32 bytes); changing it revokes them. */
  tokenSecret: Buffer;
  mode: DokuSnapMode;
  /**
   * The BIN / company code the numbers start with (`partnerServiceId`, digits): DOKU's in DGPC, ours
   * in MGPC and DIPC.
   */
  bin: string;
  /** CHANNEL-ID of our requests; DOKU's samples show `H2H` and `VA004`, its SDK sends `SDK`. */
  channelId?: string;
  /** The paths DOKU signs for our Notification and Inquiry URLs, when a proxy rewrites paths. */
  notificationPath?: string;
  inquiryPath?: string;
}

export interface DokuSnapProvider extends VaProvider {
  /** The `providerAccount` of every VA (our Client ID), under which DIPC bills are looked up. */
  readonly providerAccount: string;
  /** DIPC: who answers DOKU's forwarded inquiries (the biller's inquiry use case); set by the wiring. */
  attachInquiries(inquiries: DipcInquiries): void;
  /** check status, as DOKU answers it for one VA. */
  checkStatus(va: ProviderVaRef, signal: AbortSignal): Promise<DokuStatus>;
  simulatePayment(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

export function createDokuSnapProvider(config: DokuSnapConfig): DokuSnapProvider {
  const now = config.now ?? (() => new Date());
  const timeoutMs = config.timeoutMs ?? 15_000;
  if (!/^\d{1,8}$/.test(config.bin)) throw new Error(`${DOKU_SNAP}: bin must be 1-8 digits`);
  const partnerServiceId = padPartnerServiceId(config.bin);
  const dokuPublicKey = publicKeyFrom(config.dokuPublicKey);
  const accessTokens = createAccessTokenClient({
    provider: DOKU_SNAP,
    baseUrl: config.baseUrl,
    clientId: config.clientId,
    privateKey: privateKeyFrom(config.privateKey),
    path: DokuSnapPath.accessToken,
    timeoutMs,
    now,
  });
  const client = createSnapClient({
    provider: DOKU_SNAP,
    baseUrl: config.baseUrl,
    partnerId: config.clientId,
    channelId: config.channelId ?? "H2H",
    signing: { kind: "symmetric", clientSecret: config.secretKey, accessTokens },
    timeoutMs,
    now,
  });
  const issuer = createAccessTokenIssuer({
    clientPublicKeyOf: (clientId) => (clientId === config.clientId ? dokuPublicKey : undefined),
    tokenSecret: config.tokenSecret,
    maxClockSkewMs: config.maxClockSkewMs,
    now,
  });
  let inquiries: DipcInquiries | undefined;

  async function checkStatus(trxId: string, customerNo: string | undefined, signal: AbortSignal, paymentRequestId?: string) {
    const body = toCheckStatusRequest(config.bin, trxId, customerNo, paymentRequestId);
    const answer = await client.call({ method: "POST", path: DokuSnapPath.checkStatus, body, signal });
    return { status: fromCheckStatusResponse(answer), raw: JSON.stringify(answer) };
  }

  /** undefined when DOKU knows no such VA (or payment): `404xx01`/`404xx12`. */
  const unlessUnknown = <T>(work: Promise<T>): Promise<T | undefined> =>
    work.catch((error: unknown) => {
      if (error instanceof DomainError && error.kind === "NOT_FOUND") return undefined;
      throw error;
    });

  /**
   * A create whose answer was lost is retried with the same trxId, which DOKU refuses (`409xx0x`).
   * The VA the lost attempt made is found by check status by our trxId (and, in MGPC, the number we
   * asked for) and adopted when it is this very request's VA (same trxId and bill).
   */
  async function adopt(request: ProviderCreateRequest, asked: { customerNo?: string }, signal: AbortSignal) {
    const found = await unlessUnknown(checkStatus(request.externalId, asked.customerNo, signal));
    if (!found) return undefined;
    const { issued, totalAmount } = found.status;
    if (issued.trxId !== request.externalId || issued.partnerServiceId !== partnerServiceId) return undefined;
    if (asked.customerNo !== undefined && issued.customerNo !== asked.customerNo) return undefined;
    if (request.amount.type === "FIXED" && totalAmount !== undefined && totalAmount !== request.amount.amount) return undefined;
    return issued;
  }

  const vaOf = (request: ProviderCreateRequest, customerNo: string): ProviderVirtualAccount => ({
    providerAccount: config.clientId,
    providerReference: encodeReference({ trxId: request.externalId, customerNo, trxType: trxTypeOf(request.amount) }),
    vaNumber: config.bin + customerNo,
    // DOKU's notifications and check status name the VA by our trxId.
    providerVaId: request.externalId,
  });

  const verifyInquiry = (request: InboundHttpRequest, at: Date) =>
    verifyInboundSnapRequest(request, {
      serviceCode: SnapService.vaInquiry,
      signedPath: config.inquiryPath ?? request.path,
      credentialsOf: (partnerId) =>
        partnerId === config.clientId
          ? { kind: "symmetric", clientSecret: config.secretKey, clientIdOfToken: issuer.clientIdOfToken }
          : undefined,
      now: at,
      maxClockSkewMs: config.maxClockSkewMs,
    });

  async function answerInquiry(request: InboundHttpRequest): Promise<HttpAnswer> {
    const reading = await readDipcInquiry(request, now(), partnerServiceId, verifyInquiry);
    if (reading.kind === "rejected") return reading.answer;
    if (config.mode !== "DIPC" || !inquiries) return INQUIRY_FAILED;
    try {
      return reading.answer(await inquiries(reading.request));
    } catch {
      return answerOf({ kind: "FAILED" });
    }
  }

  async function receiveNotification(request: InboundHttpRequest): Promise<WebhookResult> {
    const receivedAt = now();
    const tokenSecret = config.tokenSecret;
    const notification = await verifySnapPaymentCallback(request, {
      serviceCode: SnapService.vaPayment,
      signedPath: config.notificationPath ?? request.path,
      credentialsOf: (partnerId) =>
        partnerId === config.clientId
          ? {
              kind: "symmetric",
              clientSecret: config.secretKey,
              // A late retry carries the token of its first attempt: ours, but maybe expired (doubt below).
              clientIdOfToken: (token) => readIssuedToken(tokenSecret, token)?.clientId,
            }
          : undefined,
      now: receivedAt,
      maxClockSkewMs: config.maxClockSkewMs,
      read: readPaymentNotification,
    });
    if (!notification.ok) return notification.rejected;
    const token = bearerToken(request.headers[SnapHeader.authorization]) ?? "";
    const expiredToken = issuer.clientIdOfToken(token) === undefined;
    const verified = notification.request;
    const doubt = verified.doubt ?? (expiredToken ? "the access token it carries has expired" : undefined);
    const rawPayload = request.rawBody.toString("utf8");
    const reported = toPaymentNotification(notification.payment, config.clientId, rawPayload, receivedAt);
    return callbackPayment(verified, reported, notificationAnswer(notificationEcho(request.rawBody)), doubt);
  }

  return {
    name: DOKU_SNAP,
    providerAccount: config.clientId,

    attachInquiries(handler) {
      inquiries = handler;
    },

    async createVirtualAccount(request, signal) {
      const body = toCreateVaRequest(request, { mode: config.mode, bin: config.bin, now: now() });
      // DIPC: the VA is ours alone; DOKU learns of it only when it forwards a bank's inquiry.
      if (config.mode === "DIPC") return vaOf(request, body.customerNo as string);
      const answer = await client
        .call({ method: "POST", path: DokuSnapPath.createVa, body, signal, requestFieldOf })
        .catch(async (error: unknown) => {
          // `409xx00` Conflict (the SDK's canned answer for a used trxId) or `409xx01` Duplicate.
          if (!isSnapRefusal(error, SnapOutcomes.conflict, SnapOutcomes.duplicateReference)) throw error;
          const adopted = await adopt(request, { customerNo: body.customerNo }, signal);
          if (!adopted) throw error;
          return { virtualAccountData: adopted } as Record<string, unknown>;
        });
      const issued = fromCreateVaResponse(answer);
      if (issued.trxId !== request.externalId || issued.partnerServiceId !== partnerServiceId) {
        throw new DomainError("UNAVAILABLE", `${DOKU_SNAP} answered create-va with another VA`, { provider: DOKU_SNAP });
      }
      if (body.customerNo !== undefined && issued.customerNo !== body.customerNo) {
        throw new DomainError("UNAVAILABLE", `${DOKU_SNAP} issued another number than the one requested`, {
          provider: DOKU_SNAP,
        });
      }
      return vaOf(request, issued.customerNo);
    },

    async cancelVirtualAccount(va, signal) {
      if (config.mode === "DIPC") return; // our inquiry answers refuse a cancelled VA
      const body = toDeleteVaRequest(va, config.bin, decodeReference(va.providerReference));
      await client.call({ method: "DELETE", path: DokuSnapPath.deleteVa, body, signal });
    },

    async updateVirtualAccount(va: ProviderVaRef, changes: VirtualAccountChanges, signal: AbortSignal) {
      if (config.mode === "DIPC") return; // the bill is read at each inquiry
      const body = toUpdateVaRequest(va, config.bin, decodeReference(va.providerReference), changes);
      await client.call({ method: "PUT", path: DokuSnapPath.updateVa, body, signal, requestFieldOf });
    },

    async checkStatus(va, signal) {
      const { trxId, customerNo } = decodeReference(va.providerReference);
      return (await checkStatus(trxId, customerNo, signal)).status;
    },

    /** Check status answers one payment per VA: for a reusable VA, its latest (DOKU documents no list). */
    async fetchPayments(va, signal) {
      const { trxId, customerNo } = decodeReference(va.providerReference);
      const found = await unlessUnknown(checkStatus(trxId, customerNo, signal));
      return found ? paymentsFromStatus(found.status, config.clientId, found.raw, now()) : [];
    },

    /** Asks check status about the very `paymentRequestId` the notification claims. */
    async confirmPayment(claim: PaymentNotification, signal: AbortSignal): Promise<Confirmation> {
      const reading = readPaymentNotification(Buffer.from(claim.rawPayload, "utf8"));
      if (!reading.ok) {
        throw new DomainError("UNAVAILABLE", `${DOKU_SNAP} cannot be asked: the notification is unreadable`, {
          provider: DOKU_SNAP,
        });
      }
      const { payment } = reading;
      const parts = splitVirtualAccountNo(payment.virtualAccountNo) ?? splitVirtualAccountNo(padded(payment.virtualAccountNo));
      const found = await unlessUnknown(checkStatus(payment.trxId, parts?.customerNo, signal, payment.paymentRequestId));
      if (!found)
        return { paid: false, reason: `${DOKU_SNAP} knows no payment ${payment.paymentRequestId} of trxId ${payment.trxId}` };
      return confirmationFromStatus(claim, payment, found.status);
    },

    async simulatePayment(va, amount, signal) {
      const { trxId, customerNo } = decodeReference(va.providerReference);
      const body: DokuSimulatePaymentRequest = { virtualAccountNo: partnerServiceId + customerNo, amount: toSnapMoney(amount) };
      const answer = await client.call({ method: "POST", path: DokuSnapPath.simulatePayment, body, signal });
      const data = isRecord(answer.virtualAccountData) ? answer.virtualAccountData : {};
      if (typeof data.paymentRequestId !== "string") {
        throw new DomainError("UNAVAILABLE", `${DOKU_SNAP} answered simulate-payment without a paymentRequestId`, {
          provider: DOKU_SNAP,
        });
      }
      const paidTrxId = typeof data.trxId === "string" ? data.trxId : trxId;
      return { providerPaymentRef: paymentReference(paidTrxId, data.paymentRequestId) };
    },

    async receiveWebhook(request) {
      const path = request.path.split("?")[0] ?? "";
      // Not payments: answered in full here, so the route passes the answer on as it does a refusal.
      if (path.endsWith(DokuSnapInbound.accessTokenSuffix)) {
        return { kind: "rejected", answer: issuer.issue(request), reason: "DOKU's access token request, answered" };
      }
      if (path.endsWith(DokuSnapInbound.inquirySuffix)) {
        return { kind: "rejected", answer: await answerInquiry(request), reason: "DOKU's forwarded inquiry (DIPC), answered" };
      }
      return receiveNotification(request);
    },
  };
}

/** A number sent without its padding (as some samples print it). */
const padded = (virtualAccountNo: string) => {
  const digits = payerDigits(virtualAccountNo);
  return digits.length > 8 ? virtualAccountNo : virtualAccountNo.padStart(8, " ");
};

/** DOKU's field names in `400xx01/02` messages, as our request's fields. */
const requestFieldOf = requestFieldsFrom({
  customerNo: "number_suffix",
  virtualAccountNo: "number_suffix",
  virtualAccountName: "customer.name",
  virtualAccountEmail: "customer.email",
  virtualAccountPhone: "customer.phone",
  totalAmount: "amount",
  "totalAmount.value": "amount",
  expiredDate: "expires_at",
  "additionalInfo.channel": "bank_code",
  virtualAccountTrxType: "amount",
});

/** The identity fields our acknowledgement echoes (SDK `generateNotificationResponse`). */
function notificationEcho(rawBody: Buffer): Record<string, unknown> {
  const body: unknown = JSON.parse(rawBody.toString("utf8"));
  if (!isRecord(body)) return {};
  const keep = ["partnerServiceId", "customerNo", "virtualAccountNo", "virtualAccountName", "paymentRequestId"];
  return Object.fromEntries(keep.filter((key) => typeof body[key] === "string").map((key) => [key, body[key]]));
}

/**
 * `2002500` with the notification's identity for a payment we recorded or hold (DOKU stops); `404 2512`
 * only when DOKU's own check status denies it, `409 2500` for a used X-EXTERNAL-ID with another body.
 * DOKU retries anything but 2xx (+30 min, +6 h, +12 h, its "Retry Notification" page).
 */
const notificationAnswer = (echo: Record<string, unknown>) =>
  snapCallbackAnswers(SnapService.vaPayment, {
    refutedMessage: "Bill not found",
    acknowledgedExtra: { virtualAccountData: echo },
  });

export type { DokuSnapReference };
