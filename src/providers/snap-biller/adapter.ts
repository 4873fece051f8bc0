import { DomainError, invalidArgument } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { type AccessTokenIssuer, createAccessTokenIssuer } from "../../protocols/snap/access-token-issuer.js";
import { createSnapClient, type SnapClient } from "../../protocols/snap/client.js";
import { SnapHeader } from "../../protocols/snap/headers.js";
import { type InboundCredentials, verifyInboundSnapRequest } from "../../protocols/snap/inbound-request.js";
import { toSnapMoney } from "../../protocols/snap/money.js";
import { isSnapRefusal } from "../../protocols/snap/provider-answer.js";
import { SnapOutcomes } from "../../protocols/snap/response-code.js";
import { privateKeyFrom, publicKeyFrom, type SnapKey } from "../../protocols/snap/signature.js";
import { formatSnapTimestamp, jakartaDay } from "../../protocols/snap/timestamp.js";
import {
  composeVirtualAccountNo,
  padPartnerServiceId,
  payerDigits,
  splitVirtualAccountNo,
} from "../../protocols/snap/va-number.js";
import type { BillerProvider } from "../biller.js";
import type {
  InboundHttpRequest,
  ProviderCreateRequest,
  ProviderVaRef,
  ProviderVirtualAccount,
  WebhookResult,
} from "../provider.js";
import { jsonAnswer } from "../shared/wire-helpers.js";
import { trxTypeOf } from "./bill.js";
import { createBillerInbound } from "./inbound.js";
import { checkNumbering, customerNoFor } from "./numbering.js";
import {
  type BankPaymentStatus,
  type BillerIdentity,
  BillerPath,
  type CreateVaRequest,
  type InquiryStatusRequest,
  readInquiryStatusAnswer,
  readListedPayments,
  SNAP_BILLER,
} from "./wire.js";

export interface SnapBillerConfig {
  /** Our BIN / company code, 1-8 digits; sent as `partnerServiceId`, space-padded to 8. */
  partnerServiceId: string;
  /** Length of the customerNo we derive (the caller's number suffix may be shorter). */
  customerNoDigits: number;
  /** The bank that calls us: its X-PARTNER-ID (also the X-CLIENT-KEY of its token requests). */
  bankPartnerId: string;
  /** Verifies the bank's asymmetric signatures and its B2B token requests. */
  bankPublicKey: SnapKey;
  /** With this, the bank may also sign symmetrically (HMAC-SHA512) with a token from our issuer. */
  bankClientSecret?: string;
  /** MAC key of the B2B tokens we issue (≥ 32 bytes); the same on every replica. */
  tokenSecret: Buffer;
  /**
   * What a proxy in front of us strips from the path the bank addresses (and signs), e.g. `/snap`
   * when the bank calls `https://host/snap/v1.0/transfer-va/payment`.
   */
  publicPathPrefix?: string;
  maxClockSkewMs?: number;
  /** Our calls to the bank: Inquiry Status (26) and, when `createVaPath` is set, Create VA (27). */
  bank?: {
    baseUrl: string;
    /** Our X-PARTNER-ID at the bank. */
    partnerId: string;
    /** Ours; the bank verifies our requests with the public half. */
    privateKey: SnapKey;
    channelId: string;
    createVaPath?: string;
    timeoutMs?: number;
  };
  /** Sandbox only: drive inquiry → payment through the bank simulator for this displayed number. */
  simulatePayment?: (vaNumber: string, amount: Rupiah, signal: AbortSignal) => Promise<{ providerPaymentRef: string }>;
  now?: () => Date;
}

/** The biller adapter, plus the bank's Inquiry Status as SNAP states it. It never touches the database. */
export interface SnapBillerProvider extends BillerProvider {
  /** 8 characters, space-padded. */
  readonly partnerServiceId: string;
  /** Service 26: what the bank knows about the payment of one inquiry. Never throws for bank refusals. */
  inquirePaymentStatus(
    query: { virtualAccountNo: string; inquiryRequestId: string },
    signal: AbortSignal,
  ): Promise<BankPaymentStatus>;
}

export function createSnapBillerProvider(config: SnapBillerConfig): SnapBillerProvider {
  checkNumbering(config.partnerServiceId, config.customerNoDigits);
  const now = config.now ?? (() => new Date());
  const partnerServiceId = padPartnerServiceId(config.partnerServiceId);
  const bankPublicKey = publicKeyFrom(config.bankPublicKey);
  const tokens: AccessTokenIssuer = createAccessTokenIssuer({
    clientPublicKeyOf: (clientId) => (clientId === config.bankPartnerId ? bankPublicKey : undefined),
    tokenSecret: config.tokenSecret,
    maxClockSkewMs: config.maxClockSkewMs,
    now,
  });
  const bank = config.bank;
  const client: SnapClient | undefined = bank
    ? createSnapClient({
        provider: SNAP_BILLER,
        baseUrl: bank.baseUrl,
        partnerId: bank.partnerId,
        channelId: bank.channelId,
        signing: { kind: "asymmetric", privateKey: privateKeyFrom(bank.privateKey) },
        timeoutMs: bank.timeoutMs ?? 8_000,
        now,
      })
    : undefined;

  function credentialsOf(request: InboundHttpRequest) {
    return (partnerId: string): InboundCredentials | undefined => {
      if (partnerId !== config.bankPartnerId) return undefined;
      // A bearer token selects the symmetric signature, when the bank was given a client secret.
      if (config.bankClientSecret && request.headers[SnapHeader.authorization]) {
        return { kind: "symmetric", clientSecret: config.bankClientSecret, clientIdOfToken: tokens.clientIdOfToken };
      }
      return { kind: "asymmetric", publicKey: bankPublicKey };
    };
  }

  async function register(request: ProviderCreateRequest, identity: BillerIdentity, signal: AbortSignal): Promise<void> {
    if (!client || !bank?.createVaPath) return;
    const body: CreateVaRequest = {
      ...identity,
      virtualAccountName: (request.customer.name.trim() || "Customer").slice(0, 255),
      trxId: request.externalId,
      ...(request.amount.type === "FIXED" ? { totalAmount: toSnapMoney(request.amount.amount) } : {}),
      virtualAccountTrxType: trxTypeOf(request),
      expiredDate: formatSnapTimestamp(request.expiresAt),
      additionalInfo: {},
    };
    try {
      await client.call({ method: "POST", path: bank.createVaPath, body, signal });
    } catch (error) {
      // 409xx01 Duplicate: a retried create after the first registration went through.
      if (!isSnapRefusal(error, SnapOutcomes.duplicateReference)) throw error;
    }
  }

  const provider: SnapBillerProvider = {
    name: SNAP_BILLER,
    providerAccount: config.partnerServiceId,
    partnerServiceId,
    canInquireStatus: client !== undefined,
    registersAtBank: client !== undefined && bank?.createVaPath !== undefined,

    /** Numbers the VA locally (same external id → same number) and registers it at the bank if configured. */
    async createVirtualAccount(request: ProviderCreateRequest, signal: AbortSignal): Promise<ProviderVirtualAccount> {
      if (request.numberSuffix.length > config.customerNoDigits) {
        throw invalidArgument("number_suffix", `takes at most ${config.customerNoDigits} digits`);
      }
      const customerNo = request.numberSuffix || customerNoFor(request.externalId, config.customerNoDigits);
      const identity = { partnerServiceId, customerNo, virtualAccountNo: composeVirtualAccountNo(partnerServiceId, customerNo) };
      await register(request, identity, signal);
      return {
        providerAccount: config.partnerServiceId,
        providerReference: request.externalId,
        vaNumber: payerDigits(identity.virtualAccountNo),
        // The bank's payment names the VA by the trxId we registered it with.
        providerVaId: provider.registersAtBank ? request.externalId : undefined,
      };
    },

    /**
     * A no-op: the bill lives here, so cancelling is our state machine's job alone (a bank asking
     * for a cancelled VA is refused). A VA registered at the bank stays registered there.
     */
    async cancelVirtualAccount(): Promise<void> {},

    /** Always rejected (404): banks call the biller routes (`/v1.0/transfer-va/…`), never `/webhooks/snap-biller`. */
    async receiveWebhook(): Promise<WebhookResult> {
      return {
        kind: "rejected",
        reason: "snap-biller has no webhook; banks call /v1.0/transfer-va/inquiry and /payment",
        answer: jsonAnswer(404, { error: "NOT_FOUND" }),
      };
    },

    ...createBillerInbound(partnerServiceId, (request, serviceCode, at, options) =>
      verifyInboundSnapRequest(request, {
        serviceCode,
        signedPath: (config.publicPathPrefix ?? "") + request.path,
        credentialsOf: credentialsOf(request),
        now: at,
        maxClockSkewMs: config.maxClockSkewMs,
        staleIsDoubt: options?.staleIsDoubt,
      }),
    ),

    issueAccessToken: (request) => tokens.issue(request),

    requestIdDay: jakartaDay,

    /**
     * For a VA registered at the bank (paid by `trxId`, with no inquiry we could ask about): every
     * payment the bank lists for its number (Inquiry Status without an inquiryRequestId, §2.6).
     */
    async fetchPayments(va, signal) {
      if (!client || !provider.registersAtBank) return [];
      const customerNo = va.vaNumber.slice(config.partnerServiceId.length);
      const body: InquiryStatusRequest = {
        partnerServiceId,
        customerNo,
        virtualAccountNo: composeVirtualAccountNo(partnerServiceId, customerNo),
        additionalInfo: {},
      };
      let answer: Record<string, unknown>;
      try {
        answer = await client.call({ method: "POST", path: BillerPath.inquiryStatus, body, signal });
      } catch (error) {
        if (isSnapRefusal(error, SnapOutcomes.transactionNotFound)) return [];
        throw error;
      }
      return readListedPayments(answer).map((listed) => ({
        providerAccount: config.partnerServiceId,
        providerPaymentRef: listed.paymentRequestId,
        vaNumber: va.vaNumber,
        providerVaId: va.providerReference,
        amount: listed.amount,
        fee: undefined,
        paidAt: listed.paidAt ?? now(),
        rawPayload: listed.rawEntry,
      }));
    },

    async inquirePaymentStatus(query, signal): Promise<BankPaymentStatus> {
      if (!client) return { state: "UNKNOWN", reason: "no bank endpoint configured" };
      // Asked as the bank sent it; a bank that sent the number unpadded still gets §2.4's triple.
      const digits = payerDigits(query.virtualAccountNo);
      const identity =
        splitVirtualAccountNo(query.virtualAccountNo) ??
        (digits.startsWith(config.partnerServiceId) && digits.length > config.partnerServiceId.length
          ? { partnerServiceId, customerNo: digits.slice(config.partnerServiceId.length) }
          : undefined);
      if (!identity) return { state: "UNKNOWN", reason: "stored virtualAccountNo is malformed" };
      const body: InquiryStatusRequest = {
        ...identity,
        virtualAccountNo: query.virtualAccountNo,
        inquiryRequestId: query.inquiryRequestId,
        paymentRequestId: query.inquiryRequestId,
        additionalInfo: {},
      };
      try {
        return readInquiryStatusAnswer(await client.call({ method: "POST", path: BillerPath.inquiryStatus, body, signal }));
      } catch (error) {
        // 404xx01 Transaction Not Found: the bank never took money for this inquiry.
        if (isSnapRefusal(error, SnapOutcomes.transactionNotFound)) return { state: "UNPAID" };
        if (!(error instanceof DomainError)) throw error;
        return { state: "UNKNOWN", reason: error.message };
      }
    },

    async paymentOfInquiry(inquiry, signal) {
      const status = await provider.inquirePaymentStatus(inquiry, signal);
      if (status.state !== "PAID") return status;
      const amount = status.amount ?? inquiry.amount;
      if (amount === undefined) return { state: "UNKNOWN", reason: "paid without an amount" };
      const payment = {
        providerAccount: config.partnerServiceId,
        providerPaymentRef: inquiry.inquiryRequestId,
        vaNumber: payerDigits(inquiry.virtualAccountNo),
        amount,
        fee: undefined,
        paidAt: status.paidAt ?? now(),
        rawPayload: status.rawAnswer,
      };
      return { state: "PAID", payment };
    },
  };
  if (config.simulatePayment) {
    const simulate = config.simulatePayment;
    provider.simulatePayment = (va: ProviderVaRef, amount: Rupiah, signal: AbortSignal) => simulate(va.vaNumber, amount, signal);
  }
  return provider;
}
