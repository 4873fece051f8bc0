import type { Rupiah } from "../domain/money.js";
import type { VirtualAccount } from "../domain/virtual-account.js";
import type { HttpAnswer, InboundHttpRequest, PaymentNotification, RequestIdGuard, VaProvider } from "./provider.js";

/**
 * A provider whose bills we host: banks ask us for a bill (inquiry) and tell us of its payment, the
 * way webhooks tell us of payments elsewhere. Its adapter verifies and reads each request and shapes
 * every answer; the biller use cases (app/biller/) take the read request and return an outcome.
 */
/**
 * A provider that forwards the bank's inquiry to us and takes our answer (DOKU's direct inquiry,
 * DIPC): the wiring hands it the biller's inquiry use case.
 */
export interface ForwardsBankInquiries extends VaProvider {
  readonly providerAccount: string;
  attachInquiries(inquiries: (inquiry: BankInquiryRequest) => Promise<BankOutcome>): void;
}

export const forwardsBankInquiries = (provider: VaProvider): provider is ForwardsBankInquiries =>
  typeof (provider as Partial<ForwardsBankInquiries>).attachInquiries === "function";

export interface BillerProvider extends VaProvider {
  /** Our account at the bank: the `providerAccount` of every VA and payment of this provider. */
  readonly providerAccount: string;
  /** True when every VA is registered at the bank, which may then pay it without an inquiry (by `trxId`). */
  readonly registersAtBank: boolean;
  /** True when the bank can be asked what became of an inquiry's payment (`paymentOfInquiry`). */
  readonly canInquireStatus: boolean;
  /** A bank's inquiry, verified and read; never throws for bad input (the reading is `rejected`). */
  readInquiry(request: InboundHttpRequest, now: Date): Promise<BankReading<BankInquiryRequest>>;
  /** A bank's payment, verified and read; never throws for bad input (the reading is `rejected`). */
  readPayment(request: InboundHttpRequest, now: Date): Promise<BankReading<BankPaymentRequest>>;
  /** The bank's request for a token to sign its later requests with, answered in full. */
  issueAccessToken(request: InboundHttpRequest): HttpAnswer;
  /**
   * What the bank says became of one inquiry's payment: PAID with the payment as if it had arrived
   * by the bank's payment request, UNPAID, or UNKNOWN for now. Never throws for the bank's refusals.
   */
  paymentOfInquiry(inquiry: InquiryOfBank, signal: AbortSignal): Promise<InquiryPaymentStatus>;
  /** The day a request id sent at `at` is unique within (`RequestIdGuard.day`): older guards may be forgotten. */
  requestIdDay(at: Date): string;
}

export type BankReading<T> =
  | {
      kind: "request";
      request: T;
      /** The answer the bank gets for the outcome of its request. */
      answer: (outcome: BankOutcome) => HttpAnswer;
    }
  | { kind: "rejected"; answer: HttpAnswer; reason: string };

/** What every bank request carries once verified and read. */
interface BankRequest {
  /** The bank, verified: inquiries are kept per bank. */
  partnerId: string;
  /** The request id the bank must not reuse today for another request; claimed with the request's work. */
  requestIdGuard: RequestIdGuard;
  /** When we received it: the instant its bill and timer are judged at. */
  receivedAt: Date;
  /** The VA number as the bank sent it (kept, and sent back as it was). */
  virtualAccountNo: string;
  /** The digits that identify the VA number. */
  vaNumber: string;
  /** False when the number is not under our account at the bank: no VA of ours has it, whatever its digits. */
  ours: boolean;
  /** Whether a number the bank sent before (as it sent it) names the same VA number as this request. */
  sameNumber(virtualAccountNo: string): boolean;
}

/** The bill as the bank shows it: the VA and the total shown to the payer, if any. */
export interface ShownBill {
  va: VirtualAccount;
  totalAmount: Rupiah | undefined;
}

/** A success answer as first given, kept with the inquiry so that a repeat gets it again, byte for byte. */
export interface KeptAnswer {
  /** HTTP status; undefined for one kept without it (the success status then). */
  status: number | undefined;
  body: string;
}

export interface BankInquiryRequest extends BankRequest {
  /** The bank's id of this inquiry; its payment names it. */
  inquiryRequestId: string;
  /** What the payer typed at the bank, when the bank sent it. */
  amount: Rupiah | undefined;
  /** The answer showing the bill. */
  billAnswer(bill: ShownBill): KeptAnswer;
}

export interface BankPaymentRequest extends BankRequest {
  /** The inquiry it pays (or, for a VA registered at the bank, the payment's own id). */
  paymentRequestId: string;
  paidAmount: Rupiah;
  /** Our id of the VA at the bank, when the bank names the VA by it (a registered VA paid without an inquiry). */
  trxId: string | undefined;
  /** Why it cannot be believed on its face although its signature holds (a stale timestamp). */
  doubt: string | undefined;
  /** The request as received, kept with the payment for audit. */
  rawPayload: string;
  /** The answer confirming the payment of the bill. */
  paidAnswer(bill: ShownBill): KeptAnswer;
}

/** Why a bank request is refused. Nothing of a refused request is kept. */
export type BankRefusal =
  /** The bank used the request id today for another request. */
  | "REQUEST_ID_REUSED"
  /** A payment too old to believe, whose earlier answer we do not have. */
  | "STALE"
  /** The inquiry id was used for an inquiry of another VA. */
  | "INQUIRY_ID_REUSED"
  /** No VA of ours has the number. */
  | "UNKNOWN_BILL"
  /** The number now belongs to another VA than the inquiry's. */
  | "NUMBER_REASSIGNED"
  /** A single-use VA already settled. */
  | "BILL_PAID"
  | "BILL_CANCELLED"
  | "BILL_EXPIRED"
  /** Not the amount the bill or its inquiry allows, or not the amount the payment was first made with. */
  | "WRONG_AMOUNT"
  /** A payment with no inquiry of that VA behind it. */
  | "NO_SUCH_INQUIRY"
  /** The inquiry's timer ran out before its payment came. */
  | "INQUIRY_EXPIRED";

export type BankOutcome =
  | { kind: "ANSWERED"; answer: KeptAnswer }
  | { kind: "REFUSED"; refusal: BankRefusal; reason: string }
  /** Nothing was kept; the bank retries. */
  | { kind: "FAILED" };

/** An inquiry whose payment we never received, as kept. */
export interface InquiryOfBank {
  virtualAccountNo: string;
  inquiryRequestId: string;
  /** The amount it quoted, if any: a payment the bank confirms without an amount is for this. */
  amount: Rupiah | undefined;
}

export type InquiryPaymentStatus =
  | { state: "PAID"; payment: PaymentNotification }
  | { state: "UNPAID" }
  | { state: "UNKNOWN"; reason: string };
