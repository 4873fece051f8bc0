import { DomainError, invalidArgument } from "../../domain/errors.js";
import type { Rupiah } from "../../domain/money.js";
import { checkVaNumber } from "../../domain/virtual-account.js";
import { parseSnapMoney, toSnapMoney } from "../../protocols/snap/money.js";
import {
  malformedField,
  missingField,
  type SnapCallbackReading,
  UNREADABLE_BODY,
} from "../../protocols/snap/payment-callback.js";
import { requestFieldsFrom } from "../../protocols/snap/provider-answer.js";
import { formatSnapTimestamp, parseSnapTimestamp } from "../../protocols/snap/timestamp.js";
import type {
  Confirmation,
  PaymentNotification,
  ProviderCreateRequest,
  ProviderVaRef,
  ProviderVirtualAccount,
  VirtualAccountChanges,
} from "../provider.js";
import { cannotConfirmNow, confirmedAs, unpaidByStatus } from "../shared/confirmation.js";
import { isRecord, parseJsonObject } from "../shared/wire-helpers.js";
import { DURIANPAY_SNAP, PREFIX_DIGITS, SUFFIX_DIGITS } from "./capabilities.js";
import {
  DURIANPAY_UNPAID,
  type DurianpayCreateVaRequest,
  type DurianpayStatusRequest,
  DurianpayTransactionStatus,
  type DurianpayUpdateVaRequest,
  type DurianpayVaKey,
} from "./wire.js";

/** Pure mapping between our model and Durianpay's SNAP wire format. */

/** Our trxId: the external id, 32 hex digits (letters, digits, `_`, `-` accepted, at most 64). */
export const TRX_ID = /^[A-Za-z0-9_-]{1,64}$/;
const PAYMENT_ID = /^[A-Za-z0-9_-]{1,128}$/;
const NAME_MAX = 64;

/** Refuses up front what the published page lets us know Durianpay would refuse. */
export function toCreateVaRequest(request: ProviderCreateRequest): DurianpayCreateVaRequest {
  const maxSuffix = Object.hasOwn(SUFFIX_DIGITS, request.bankCode) ? SUFFIX_DIGITS[request.bankCode] : undefined;
  if (maxSuffix === undefined) throw invalidArgument("bank_code", `${DURIANPAY_SNAP} has no bank ${request.bankCode}`);
  if (request.usage !== "SINGLE") throw invalidArgument("amount", `${DURIANPAY_SNAP} issues single-use VAs only`);
  if (request.amount.type === "RANGE") throw invalidArgument("amount", `${DURIANPAY_SNAP} has no VA with an amount range`);
  if (request.numberSuffix !== "" && !new RegExp(`^\\d{1,${maxSuffix}}$`).test(request.numberSuffix)) {
    throw invalidArgument("number_suffix", `${DURIANPAY_SNAP} takes at most ${maxSuffix} digits at ${request.bankCode}`);
  }
  if (!TRX_ID.test(request.externalId)) {
    throw new DomainError("INTERNAL", "external id is not a Durianpay trxId", { provider: DURIANPAY_SNAP });
  }
  return {
    virtualAccountName: displayName(request.customer.name),
    ...(request.numberSuffix === "" ? {} : { customerNo: request.numberSuffix }),
    trxId: request.externalId,
    virtualAccountTrxType: request.amount.type === "FIXED" ? "C" : "O",
    expiredDate: formatSnapTimestamp(request.expiresAt),
    ...(request.amount.type === "FIXED" ? { totalAmount: toSnapMoney(request.amount.amount) } : {}),
    additionalInfo: { bankCode: request.bankCode },
  };
}

/** "Display name for the virtual account which will appear in ATM/Banking app": printable, trimmed. */
export function displayName(customerName: string): string {
  const cleaned = customerName
    .replace(/[^\p{L}\p{N} .,'-]+/gu, " ")
    .replace(/ {2,}/g, " ")
    .trim()
    .slice(0, NAME_MAX)
    .trimEnd();
  return cleaned === "" ? "Customer" : cleaned;
}

/** Durianpay's field names in `400xx01/02` messages, as our request's fields. */
export const requestFieldOf = requestFieldsFrom({
  virtualAccountName: "customer.name",
  customerNo: "number_suffix",
  totalAmount: "amount.fixed.amount",
  "totalAmount.value": "amount.fixed.amount",
  virtualAccountTrxType: "amount",
  expiredDate: "expires_at",
  bankCode: "bank_code",
  "additionalInfo.bankCode": "bank_code",
});

/**
 * What later calls need besides the number: our trxId and the display name (update-va requires the
 * name again). `providerReference` = `<trxId>.<base64url(name)>`.
 */
export interface DurianpayVaReference {
  trxId: string;
  virtualAccountName: string;
}

export const encodeReference = (reference: DurianpayVaReference) =>
  `${reference.trxId}.${Buffer.from(reference.virtualAccountName, "utf8").toString("base64url")}`;

export function decodeReference(providerReference: string): DurianpayVaReference {
  const [trxId = "", name = "", extra] = providerReference.split(".");
  if (!TRX_ID.test(trxId) || !/^[A-Za-z0-9_-]*$/.test(name) || extra !== undefined) {
    throw new DomainError("INTERNAL", "provider reference is not a Durianpay SNAP reference", { provider: DURIANPAY_SNAP });
  }
  return { trxId, virtualAccountName: Buffer.from(name, "base64url").toString("utf8") };
}

/** The VA's key in Durianpay's terms: the number split after its 8-digit prefix, and our trxId. */
export function vaKeyOf(va: ProviderVaRef): DurianpayVaKey {
  const { trxId } = decodeReference(va.providerReference);
  if (!/^\d+$/.test(va.vaNumber) || va.vaNumber.length <= PREFIX_DIGITS) {
    throw new DomainError("INTERNAL", "VA number is not a Durianpay SNAP number", { provider: DURIANPAY_SNAP });
  }
  return {
    partnerServiceId: va.vaNumber.slice(0, PREFIX_DIGITS),
    customerNo: va.vaNumber.slice(PREFIX_DIGITS),
    virtualAccountNo: va.vaNumber,
    trxId,
  };
}

export const malformed = (operation: string, field: string) =>
  new DomainError("UNAVAILABLE", `${DURIANPAY_SNAP} answered ${operation} without a usable ${field}`, {
    provider: DURIANPAY_SNAP,
  });

function virtualAccountData(operation: string, body: Record<string, unknown>) {
  const data = body.virtualAccountData;
  if (!isRecord(data)) throw malformed(operation, "virtualAccountData");
  return { data, info: isRecord(data.additionalInfo) ? data.additionalInfo : {} };
}

/** A number as Durianpay writes it: digits; the standard's space padding is tolerated and dropped. */
const digitsOf = (value: unknown) => (typeof value === "string" ? value.trim() : undefined);

export function fromCreateVaResponse(
  body: Record<string, unknown>,
  sent: DurianpayCreateVaRequest,
  providerAccount: string,
): ProviderVirtualAccount {
  const { data } = virtualAccountData("create-va", body);
  const vaNumber = digitsOf(data.virtualAccountNo);
  if (vaNumber === undefined || !/^\d+$/.test(vaNumber) || vaNumber.length <= PREFIX_DIGITS) {
    throw malformed("create-va", "virtualAccountNo");
  }
  if (data.trxId !== sent.trxId) throw malformed("create-va", "trxId");
  checkVaNumber(vaNumber);
  const name =
    typeof data.virtualAccountName === "string" && data.virtualAccountName !== ""
      ? data.virtualAccountName
      : sent.virtualAccountName;
  return {
    providerAccount,
    providerReference: encodeReference({ trxId: sent.trxId, virtualAccountName: name }),
    vaNumber,
    providerVaId: sent.trxId,
  };
}

/** update-va for new amount and/or expiry; cancel sends `expiredDate` = now (update page). */
export function toUpdateVaRequest(va: ProviderVaRef, changes: VirtualAccountChanges): DurianpayUpdateVaRequest {
  if (changes.amount && changes.amount.type !== "FIXED") {
    throw invalidArgument("amount", `${DURIANPAY_SNAP} updates the amount of a closed VA only`);
  }
  const { virtualAccountName } = decodeReference(va.providerReference);
  return {
    ...vaKeyOf(va),
    virtualAccountName,
    ...(changes.expiresAt ? { expiredDate: formatSnapTimestamp(changes.expiresAt) } : {}),
    ...(changes.amount?.type === "FIXED" ? { totalAmount: toSnapMoney(changes.amount.amount) } : {}),
  };
}

export const toStatusRequest = (va: DurianpayVaKey, paymentRequestId?: string): DurianpayStatusRequest => ({
  ...va,
  ...(paymentRequestId === undefined ? {} : { paymentRequestId }),
});

/** What Durianpay's status answer says about the VA's (latest, or the asked-for) payment. */
export interface DurianpayPaymentStatus {
  state: "PAID" | "UNPAID" | "REJECTED";
  paymentRequestId: string | undefined;
  paidAmount: Rupiah | undefined;
  paidAt: Date | undefined;
}

export function fromStatusResponse(body: Record<string, unknown>): DurianpayPaymentStatus {
  const { data, info } = virtualAccountData("status", body);
  const flag = info.latestTransactionStatus ?? data.paymentFlagStatus;
  const state =
    flag === DurianpayTransactionStatus.completed
      ? "PAID"
      : flag === DurianpayTransactionStatus.rejected
        ? "REJECTED"
        : flag === DURIANPAY_UNPAID
          ? "UNPAID"
          : undefined;
  if (!state) throw malformed("status", "additionalInfo.latestTransactionStatus");
  const paymentRequestId =
    typeof data.paymentRequestId === "string" && PAYMENT_ID.test(data.paymentRequestId) ? data.paymentRequestId : undefined;
  return {
    state,
    paymentRequestId,
    paidAmount: parseSnapMoney(data.paidAmount),
    paidAt: typeof data.trxDateTime === "string" ? parseSnapTimestamp(data.trxDateTime) : undefined,
  };
}

/** A payment notification, read exactly; amounts in whole rupiah. */
export interface DurianpayNotifiedPayment {
  trxId: string;
  paymentRequestId: string;
  virtualAccountNo: string;
  amount: Rupiah;
  paidAt: Date | undefined;
  /** `00` completed; `09` rejected ("the fund will be refunded to the payor"). */
  status: "COMPLETED" | "REJECTED";
}

export type NotificationReading = SnapCallbackReading<DurianpayNotifiedPayment>;

export function readPaymentNotification(rawBody: Buffer): NotificationReading {
  const body = parseJsonObject(rawBody);
  if (!body) return UNREADABLE_BODY;
  const info = isRecord(body.additionalInfo) ? body.additionalInfo : {};

  const virtualAccountNo = digitsOf(body.virtualAccountNo);
  if (body.virtualAccountNo === undefined) return missingField("virtualAccountNo");
  if (virtualAccountNo === undefined || !/^\d{1,28}$/.test(virtualAccountNo)) return malformedField("virtualAccountNo");
  if (body.trxId === undefined) return missingField("trxId");
  if (typeof body.trxId !== "string" || !TRX_ID.test(body.trxId)) return malformedField("trxId");
  if (body.paymentRequestId === undefined) return missingField("paymentRequestId");
  if (typeof body.paymentRequestId !== "string" || !PAYMENT_ID.test(body.paymentRequestId))
    return malformedField("paymentRequestId");
  if (body.paidAmount === undefined) return missingField("paidAmount");
  const amount = parseSnapMoney(body.paidAmount);
  if (amount === undefined || amount <= 0n) return malformedField("paidAmount");
  const paidAt = typeof body.trxDateTime === "string" ? parseSnapTimestamp(body.trxDateTime) : undefined;
  if (body.trxDateTime !== undefined && paidAt === undefined) return malformedField("trxDateTime");
  const flag = info.latestTransactionStatus;
  if (flag === undefined) return missingField("additionalInfo.latestTransactionStatus");
  if (flag !== DurianpayTransactionStatus.completed && flag !== DurianpayTransactionStatus.rejected) {
    return malformedField("additionalInfo.latestTransactionStatus");
  }
  return {
    ok: true,
    payment: {
      trxId: body.trxId,
      paymentRequestId: body.paymentRequestId,
      virtualAccountNo,
      amount,
      paidAt,
      status: flag === DurianpayTransactionStatus.completed ? "COMPLETED" : "REJECTED",
    },
  };
}

/** Payment dedupe key: Durianpay's payment id, which the notification and the status answer both carry. */
export function toPaymentNotification(
  payment: DurianpayNotifiedPayment,
  providerAccount: string,
  rawPayload: string,
  receivedAt: Date,
): PaymentNotification {
  return {
    providerAccount,
    providerPaymentRef: payment.paymentRequestId,
    vaNumber: payment.virtualAccountNo,
    amount: payment.amount,
    fee: undefined,
    paidAt: payment.paidAt ?? receivedAt,
    rawPayload,
    providerVaId: payment.trxId,
  };
}

/** The payment a status answer shows, as the notification would report it (one at most: single-use VAs). */
export function paymentsFromStatus(
  status: DurianpayPaymentStatus,
  va: { providerAccount: string; trxId: string; vaNumber: string },
  rawPayload: string,
  polledAt: Date,
): PaymentNotification[] {
  const { paymentRequestId, paidAmount } = status;
  if (status.state !== "PAID" || paymentRequestId === undefined || paidAmount === undefined) return [];
  return [
    {
      providerAccount: va.providerAccount,
      providerPaymentRef: paymentRequestId,
      vaNumber: va.vaNumber,
      amount: paidAmount,
      fee: undefined,
      paidAt: status.paidAt ?? polledAt,
      rawPayload,
      providerVaId: va.trxId,
    },
  ];
}

/** What the status answer (asked about this payment id) says about the claimed payment; Durianpay's amount wins. */
export function confirmationFromStatus(
  claim: PaymentNotification,
  paymentRequestId: string,
  status: DurianpayPaymentStatus,
): Confirmation {
  if (status.state === "UNPAID") return unpaidByStatus(DURIANPAY_SNAP);
  if (status.state === "REJECTED")
    return { paid: false, reason: `${DURIANPAY_SNAP} rejected the payment (09): refunded to the payer` };
  if (status.paymentRequestId !== paymentRequestId) {
    throw cannotConfirmNow(DURIANPAY_SNAP, "its status API shows another payment of this VA");
  }
  if (status.paidAmount === undefined) throw malformed("status", "paidAmount");
  return confirmedAs(claim, { amount: status.paidAmount, paidAt: status.paidAt });
}
