import type { Rupiah } from "../domain/money.js";
import type { ReportedPayment } from "../domain/payment.js";
import type { AmountRule, VirtualAccountDraft } from "../domain/virtual-account.js";

/**
 * The one interface every provider adapter implements. Adapters translate our model to the
 * provider's REST API and back; they never touch the database or the event log.
 *
 * Failures are thrown as `DomainError` (from `domain/errors.ts`) with the provider's raw code and
 * message in `facts`: INVALID_ARGUMENT / FAILED_PRECONDITION when the provider refused the request,
 * UNAVAILABLE when it could not be reached or answered 5xx, DEADLINE_EXCEEDED on timeout.
 */
export interface VaProvider {
  /** Lower-case id used in the API (`provider` field) and in the webhook path `/webhooks/<name>`. */
  readonly name: string;
  createVirtualAccount(request: ProviderCreateRequest, signal: AbortSignal): Promise<ProviderVirtualAccount>;
  cancelVirtualAccount(va: ProviderVaRef, signal: AbortSignal): Promise<void>;
  /** Where the provider supports it (capabilities `canUpdate`): new amount (same type) and/or expiry. */
  updateVirtualAccount?(va: ProviderVaRef, changes: VirtualAccountChanges, signal: AbortSignal): Promise<void>;
  /**
   * Verifies and parses an HTTP request the provider sent to our webhook route. Must check the
   * signature over the exact bytes received and must not throw for bad input: a request that fails
   * verification or parsing is answered with the provider's own error shape via `rejected`.
   */
  receiveWebhook(request: InboundHttpRequest): Promise<WebhookResult>;
  /**
   * Every payment the provider has recorded for the VA, read through its status API, as if each had
   * arrived by callback. Reconciliation uses it to find payments whose callback never reached us.
   */
  fetchPayments?(va: ProviderVaRef, signal: AbortSignal): Promise<PaymentNotification[]>;
  /**
   * Asks the provider's own API whether the payment a callback claims really happened. Used for a
   * callback we cannot believe on its face (`belief.verified` false). Resolves the provider's record
   * of the payment (its amount wins over the claim's), or `paid: false` when the provider denies
   * it; throws (UNAVAILABLE, DEADLINE_EXCEEDED) when it cannot tell now. `firstSeenAt` is when the
   * claim first reached us: a provider whose refusals are final may wait out its status API's lag.
   */
  confirmPayment?(claim: PaymentNotification, signal: AbortSignal, context?: { firstSeenAt: Date }): Promise<Confirmation>;
  /** Sandbox/test only: ask the provider's simulator to pay the VA (it then calls us back). */
  simulatePayment?(va: ProviderVaRef, amount: Rupiah, signal: AbortSignal): Promise<{ providerPaymentRef: string }>;
}

/** What a provider is asked to issue: the caller's draft, without what only we track. */
export type ProviderCreateRequest = Omit<VirtualAccountDraft, "merchantReference" | "provider"> & {
  /**
   * Our stable id for this VA at the provider (trxId, external id, invoice number…), derived from
   * the caller's idempotency key, so a retried create can find the VA instead of making a second.
   */
  externalId: string;
};

export interface VirtualAccountChanges {
  amount?: AmountRule;
  expiresAt?: Date;
}

export interface ProviderVirtualAccount {
  providerAccount: string;
  providerReference: string;
  vaNumber: string;
  /**
   * The provider's own identity of this VA as its callbacks name it (Winpay trxId, DOKU invoice,
   * Durianpay VA id, Ayoconnect transaction id…): callbacks are matched by it first, by number only
   * when a callback names no identity. Undefined when the provider's callbacks carry none.
   */
  providerVaId: string | undefined;
}

export interface ProviderVaRef {
  providerAccount: string;
  providerReference: string;
  vaNumber: string;
  bankCode: string;
}

export interface InboundHttpRequest {
  method: string;
  /** The path as the caller addressed it (signatures may cover it). */
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * How our handling of a payment callback went, for the provider-shaped acknowledgement:
 * - RECORDED / DUPLICATE: the payment is on its VA (now, or already before);
 * - HELD: kept durably for confirmation with the provider or for a VA it does not match yet; we
 *   hold the money's record, so the provider may stop retrying;
 * - REFUTED: the provider's own API denies the payment the callback claims; nothing was written;
 * - ID_REUSED: the callback's request id was already used with a different body; nothing was written.
 */
export type RecordingResult = "RECORDED" | "DUPLICATE" | "HELD" | "REFUTED" | "ID_REUSED";

/** What the provider's API says about a claimed payment. */
export type Confirmation = { paid: true; notification: PaymentNotification } | { paid: false; reason: string };

/**
 * Whether a callback can be believed as it stands: authentic (signature over the exact bytes) and
 * fresh. An unsigned, stale or otherwise doubtful callback is confirmed with the provider first.
 */
export type Belief = { verified: true } | { verified: false; doubt: string };

/** A payment as a provider reports it (callback or status API); see `ReportedPayment`. */
export type PaymentNotification = ReportedPayment;

/**
 * A request id the sender must not reuse for a different request (SNAP X-EXTERNAL-ID per partner and
 * Jakarta day). The same id with the same body is a retry and gets the same answer again.
 */
export interface RequestIdGuard {
  scope: string;
  day: string;
  requestId: string;
  /** sha-256 hex of the body as received. */
  bodyHash: string;
}

export type WebhookResult =
  | {
      kind: "payment";
      notification: PaymentNotification;
      belief: Belief;
      /** Checked in the database before anything is recorded. */
      requestIdGuard?: RequestIdGuard | undefined;
      answer: (result: RecordingResult) => HttpAnswer;
    }
  | { kind: "rejected"; answer: HttpAnswer; reason: string };
