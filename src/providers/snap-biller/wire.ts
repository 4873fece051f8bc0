import type { Rupiah } from "../../domain/money.js";
import { snapAnswer } from "../../protocols/snap/answer.js";
import { parseSnapMoney, type SnapMoney, toSnapMoney } from "../../protocols/snap/money.js";
import { snapBodyRefusal, UNREADABLE_BODY } from "../../protocols/snap/payment-callback.js";
import { type SnapOutcome, SnapOutcomes, SnapService } from "../../protocols/snap/response-code.js";
import { parseSnapTimestamp } from "../../protocols/snap/timestamp.js";
import type { HttpAnswer } from "../provider.js";
import { isRecord, parseJsonObject } from "../shared/wire-helpers.js";

/**
 * The SNAP "biller" wire format (providers.md §2.1, §2.6, §2.7, §3): banks call our Inquiry (24)
 * and Payment (25); we call the bank's Inquiry Status (26) and, optionally, its Create VA (27).
 */

export const SNAP_BILLER = "snap-biller";

/** Paths as signed (SNAP `/{version}/…`); DANA serves the same names with `.htm`, accepted too. */
export const BillerPath = {
  accessToken: "/v1.0/access-token/b2b",
  inquiry: "/v1.0/transfer-va/inquiry",
  payment: "/v1.0/transfer-va/payment",
  inquiryStatus: "/v1.0/transfer-va/status",
  createVa: "/v1.0/transfer-va/create-va",
} as const;

const outcome = (httpStatus: number, caseCode: string, message: string): SnapOutcome => ({ httpStatus, caseCode, message });

/** §2.8 rows the biller answers with, beyond the shared table in snap/response-code.ts. */
export const BillerOutcomes = {
  ...SnapOutcomes,
  /** `404xx18`: same reference, different parameters (used for inquiries only; see §2.8 on payments). */
  inconsistentRequest: outcome(404, "18", "Inconsistent Request"),
  /** `500xx01`: the bank is expected to retry. */
  internalServerError: outcome(500, "01", "Internal Server Error"),
} as const;

/** The identity triple every VA service carries (§2.4): 8-char padded BIN + customerNo. */
export interface BillerIdentity {
  partnerServiceId: string;
  customerNo: string;
  virtualAccountNo: string;
}

export interface InquiryRequest extends BillerIdentity {
  inquiryRequestId: string;
  /** `amount`: what the payer typed at the bank, when it sent one (not `0.00`). */
  amount: Rupiah | undefined;
}

export interface PaymentRequest extends BillerIdentity {
  paymentRequestId: string;
  paidAmount: Rupiah;
  trxId: string | undefined;
  trxDateTime: string | undefined;
  referenceNo: string | undefined;
  flagAdvise: string | undefined;
}

export type Reading<T> = { ok: true; value: T } | { ok: false; answer: HttpAnswer; reason: string };

/** inquiryRequestId / paymentRequestId: String(128) (DANA: 64), printable ASCII without spaces. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
const CUSTOMER_NO = /^\d{1,20}$/;

class FieldProblem extends Error {
  constructor(
    readonly kind: "missing" | "format",
    readonly field: string,
  ) {
    super(`${kind} ${field}`);
  }
}

function read<T>(rawBody: Buffer, serviceCode: string, reader: (body: Record<string, unknown>) => T): Reading<T> {
  const body = parseJsonObject(rawBody);
  if (!body) return { ok: false, ...snapBodyRefusal(UNREADABLE_BODY, serviceCode) };
  try {
    return { ok: true, value: reader(body) };
  } catch (error) {
    if (!(error instanceof FieldProblem)) throw error;
    return { ok: false, ...snapBodyRefusal({ ok: false, problem: error.kind, field: error.field }, serviceCode) };
  }
}

function text(body: Record<string, unknown>, field: string, pattern: RegExp): string {
  const value = body[field];
  if (value === undefined || value === null || value === "") throw new FieldProblem("missing", field);
  if (typeof value !== "string" || !pattern.test(value)) throw new FieldProblem("format", field);
  return value;
}

function optionalText(body: Record<string, unknown>, field: string, maxLength: number): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === "") return undefined;
  const textValue = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof textValue !== "string" || textValue.length > maxLength) throw new FieldProblem("format", field);
  return textValue;
}

/** 1-8 digits, left-padded with spaces to at most 8 characters (§2.4 pads to exactly 8). */
const PARTNER_SERVICE_ID = /^ {0,7}\d{1,8}$/;

/**
 * The identity triple as the bank sent it (echoed back as sent). `virtualAccountNo` must name the
 * same number as `partnerServiceId` + `customerNo`: padded byte for byte as §2.4 composes it, or
 * without the padding spaces (the digits the payer typed), which names the same VA unambiguously.
 */
function identity(body: Record<string, unknown>): BillerIdentity {
  const partnerServiceId = body.partnerServiceId;
  if (partnerServiceId === undefined || partnerServiceId === "") throw new FieldProblem("missing", "partnerServiceId");
  if (typeof partnerServiceId !== "string" || partnerServiceId.length > 8 || !PARTNER_SERVICE_ID.test(partnerServiceId)) {
    throw new FieldProblem("format", "partnerServiceId");
  }
  const customerNo = text(body, "customerNo", CUSTOMER_NO);
  const virtualAccountNo = body.virtualAccountNo;
  if (virtualAccountNo === undefined || virtualAccountNo === "") throw new FieldProblem("missing", "virtualAccountNo");
  const digits = partnerServiceId.trimStart() + customerNo;
  if (typeof virtualAccountNo !== "string" || virtualAccountNo.trimStart() !== digits || !/^ *\d+$/.test(virtualAccountNo)) {
    throw new FieldProblem("format", "virtualAccountNo");
  }
  return { partnerServiceId, customerNo, virtualAccountNo };
}

/** The 8-character padded form of a partnerServiceId as sent (padded or not). */
export const paddedPartnerServiceId = (sent: string): string => sent.trimStart().padStart(8, " ");

/** The digits of a virtualAccountNo as sent, padded or not: what identifies the number. */
export const numberDigits = (virtualAccountNo: string): string => virtualAccountNo.trimStart();

/** Service 24 request (§2.6): identity triple, `inquiryRequestId` M, `amount` O. */
export function readInquiryRequest(rawBody: Buffer): Reading<InquiryRequest> {
  return read(rawBody, SnapService.vaInquiry, (body) => {
    const triple = identity(body);
    const inquiryRequestId = text(body, "inquiryRequestId", REQUEST_ID);
    let amount: Rupiah | undefined;
    if (body.amount !== undefined && body.amount !== null) {
      amount = parseSnapMoney(body.amount);
      if (amount === undefined) throw new FieldProblem("format", "amount");
      if (amount === 0n) amount = undefined;
    }
    return { ...triple, inquiryRequestId, amount };
  });
}

/** Service 25 request (§2.6): identity triple, `paymentRequestId` M, `paidAmount` M, the rest echoed. */
export function readPaymentRequest(rawBody: Buffer): Reading<PaymentRequest> {
  return read(rawBody, SnapService.vaPayment, (body) => {
    const triple = identity(body);
    const paymentRequestId = text(body, "paymentRequestId", REQUEST_ID);
    if (body.paidAmount === undefined || body.paidAmount === null) throw new FieldProblem("missing", "paidAmount");
    const paidAmount = parseSnapMoney(body.paidAmount);
    if (paidAmount === undefined || paidAmount <= 0n) throw new FieldProblem("format", "paidAmount");
    // Echoed, never interpreted: the standard's own sample writes it `20201231T235959Z`.
    const trxDateTime = optionalText(body, "trxDateTime", 25);
    const flagAdvise = optionalText(body, "flagAdvise", 1);
    if (flagAdvise !== undefined && flagAdvise !== "Y" && flagAdvise !== "N") throw new FieldProblem("format", "flagAdvise");
    return {
      ...triple,
      paymentRequestId,
      paidAmount,
      trxId: optionalText(body, "trxId", 64),
      trxDateTime,
      referenceNo: optionalText(body, "referenceNo", 64),
      flagAdvise,
    };
  });
}

/** `virtualAccountTrxType` (§2.5): C closed, O open, M minimum (once), N open minimum (many). */
export type BillTrxType = "C" | "O" | "M" | "N";

export interface Bill {
  identity: BillerIdentity;
  virtualAccountName: string;
  inquiryRequestId: string;
  totalAmount: Rupiah | undefined;
  trxType: BillTrxType;
  /** Range bills carry their bounds here (SNAP has no field for a maximum next to a minimum). */
  additionalInfo: Record<string, string>;
}

const SUCCESS_REASON = { english: "Success", indonesia: "Sukses" };

/** `2002400` with the bill, shaped like the §2.7 sample. */
export function inquiryAnswer(bill: Bill): HttpAnswer {
  return snapAnswer(SnapOutcomes.successful, SnapService.vaInquiry, SnapOutcomes.successful.message, {
    virtualAccountData: {
      inquiryStatus: "00",
      inquiryReason: SUCCESS_REASON,
      partnerServiceId: bill.identity.partnerServiceId,
      customerNo: bill.identity.customerNo,
      virtualAccountNo: bill.identity.virtualAccountNo,
      virtualAccountName: bill.virtualAccountName,
      inquiryRequestId: bill.inquiryRequestId,
      ...(bill.totalAmount === undefined ? {} : { totalAmount: toSnapMoney(bill.totalAmount) }),
      virtualAccountTrxType: bill.trxType,
      additionalInfo: bill.additionalInfo,
    },
    additionalInfo: {},
  });
}

/** `2002500` echoing the payment, shaped like the §2.7 sample; `paymentFlagStatus` `00`. */
export function paymentAnswer(request: PaymentRequest, virtualAccountName: string, totalAmount: Rupiah | undefined): HttpAnswer {
  return snapAnswer(SnapOutcomes.successful, SnapService.vaPayment, SnapOutcomes.successful.message, {
    virtualAccountData: {
      paymentFlagReason: SUCCESS_REASON,
      partnerServiceId: request.partnerServiceId,
      customerNo: request.customerNo,
      virtualAccountNo: request.virtualAccountNo,
      virtualAccountName,
      ...(request.trxId === undefined ? {} : { trxId: request.trxId }),
      paymentRequestId: request.paymentRequestId,
      paidAmount: toSnapMoney(request.paidAmount),
      ...(totalAmount === undefined ? {} : { totalAmount: toSnapMoney(totalAmount) }),
      ...(request.trxDateTime === undefined ? {} : { trxDateTime: request.trxDateTime }),
      ...(request.referenceNo === undefined ? {} : { referenceNo: request.referenceNo }),
      ...(request.flagAdvise === undefined ? {} : { flagAdvise: request.flagAdvise }),
      paymentFlagStatus: "00",
    },
    additionalInfo: {},
  });
}

/**
 * Service 26 request (§2.6): identity triple plus the inquiry and payment ids; without them the bank
 * answers every transaction to the number.
 */
export interface InquiryStatusRequest extends BillerIdentity {
  inquiryRequestId?: string;
  paymentRequestId?: string;
  additionalInfo: Record<string, never>;
}

/** Service 27 request (§2.6), for registering a VA we numbered at the bank. */
export interface CreateVaRequest extends BillerIdentity {
  virtualAccountName: string;
  trxId: string;
  totalAmount?: SnapMoney;
  virtualAccountTrxType: BillTrxType;
  expiredDate: string;
  additionalInfo: Record<string, never>;
}

/**
 * What the bank says happened to the payment of one inquiry. `paymentFlagStatus` values beyond `00`
 * are not fixed by the standard (§2.9): `01` is read as "not paid" (common bank practice), anything
 * else as "ask again later".
 */
export type BankPaymentStatus =
  | {
      state: "PAID";
      amount: Rupiah | undefined;
      paidAt: Date | undefined;
      referenceNo: string | undefined;
      /** The bank's answer, kept with the payment for audit. */
      rawAnswer: string;
    }
  | { state: "UNPAID" }
  | { state: "UNKNOWN"; reason: string };

export function readInquiryStatusAnswer(body: Record<string, unknown>): BankPaymentStatus {
  const data = Array.isArray(body.virtualAccountData) ? body.virtualAccountData[0] : body.virtualAccountData;
  if (!isRecord(data)) return { state: "UNKNOWN", reason: "answer without virtualAccountData" };
  const flag = data.paymentFlagStatus;
  if (flag === "01") return { state: "UNPAID" };
  if (flag !== "00") return { state: "UNKNOWN", reason: `paymentFlagStatus ${JSON.stringify(flag)}` };
  const when = typeof data.transactionDate === "string" ? data.transactionDate : data.trxDateTime;
  const referenceNo = data.referenceNo;
  return {
    state: "PAID",
    amount: parseSnapMoney(data.paidAmount),
    paidAt: typeof when === "string" ? parseBankTimestamp(when) : undefined,
    referenceNo: typeof referenceNo === "string" || typeof referenceNo === "number" ? String(referenceNo) : undefined,
    rawAnswer: JSON.stringify(body),
  };
}

const BASIC_ISO_UTC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/**
 * A payment time the bank reports: SNAP's extended ISO-8601 with offset, or the basic UTC form the
 * standard's own Inquiry Status sample uses (`20201230T235959Z`).
 */
export function parseBankTimestamp(text: string): Date | undefined {
  const basic = BASIC_ISO_UTC.exec(text);
  if (!basic) return parseSnapTimestamp(text);
  const [, year, month, day, hour, minute, second] = basic;
  return parseSnapTimestamp(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
}

/** A payment the bank lists for a number (Inquiry Status without an inquiryRequestId). */
export interface BankListedPayment {
  paymentRequestId: string;
  amount: Rupiah;
  paidAt: Date | undefined;
  /** The bank's entry, kept with the payment for audit. */
  rawEntry: string;
}

/** The paid entries (`paymentFlagStatus` `00`) of an Inquiry Status answer, one or many. */
export function readListedPayments(body: Record<string, unknown>): BankListedPayment[] {
  const data = body.virtualAccountData;
  const entries = Array.isArray(data) ? data : [data];
  return entries.flatMap((entry): BankListedPayment[] => {
    if (!isRecord(entry) || entry.paymentFlagStatus !== "00" || typeof entry.paymentRequestId !== "string") return [];
    const amount = parseSnapMoney(entry.paidAmount);
    if (amount === undefined || amount <= 0n) return [];
    const when = typeof entry.transactionDate === "string" ? entry.transactionDate : entry.trxDateTime;
    const paidAt = typeof when === "string" ? parseBankTimestamp(when) : undefined;
    return [{ paymentRequestId: entry.paymentRequestId, amount, paidAt, rawEntry: JSON.stringify(entry) }];
  });
}
