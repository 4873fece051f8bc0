import type { Rupiah } from "../domain/money.js";
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

/** How our recording of a payment went, for the provider-shaped acknowledgement. */
export type RecordingResult = "RECORDED" | "DUPLICATE" | "UNKNOWN_VIRTUAL_ACCOUNT";

export interface PaymentNotification {
  providerAccount: string;
  /** The provider's unique reference of this payment: the dedupe key with provider + account. */
  providerPaymentRef: string;
  vaNumber: string;
  amount: Rupiah;
  fee: Rupiah | undefined;
  paidAt: Date;
  /** The body as received, for audit. */
  rawPayload: string;
}

export type WebhookResult =
  | {
      kind: "payment";
      notification: PaymentNotification;
      answer: (result: RecordingResult) => HttpAnswer;
      /**
       * Called when the payment could not be recorded (unknown VA, storage failure): undoes what
       * verification consumed (e.g. a replay-guard claim) so the provider's retry is accepted.
       */
      abandon?: () => Promise<void>;
    }
  | { kind: "rejected"; answer: HttpAnswer; reason: string };
