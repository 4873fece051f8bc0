import { parseRupiah, type Rupiah } from "../../domain/money.js";
import { badFieldAnswer, missingFieldAnswer } from "../../protocols/snap/answer.js";
import { parseSnapMoney } from "../../protocols/snap/money.js";
import { parseSnapTimestamp } from "../../protocols/snap/timestamp.js";
import { isRecord } from "../../providers/shared/wire-helpers.js";
import {
  AMOUNT_VALUE,
  CUSTOMER_NO,
  channelSupports,
  EXPIRED_DATE,
  latestExpiry,
  MIN_EXPIRY_MS,
  TRX_ID,
  VA_NAME,
  WINPAY_CHANNEL_TYPES,
} from "../../providers/winpay/rules.js";
import type { WinpayVaType } from "../../providers/winpay/wire.js";
import { SnapRefusal } from "../simulator-kit.js";
import type { VaOrder } from "./book.js";

/**
 * Reads request bodies the way Winpay validates them (seed 003): a missing field is
 * `400xx02 Invalid Mandatory Field {field}`, a malformed one `400xx01 Invalid Field Format {field}`.
 */

type Body = Record<string, unknown>;

/** Reads `field` (a dotted path) as text; refuses it when missing or not matching `pattern`. */
function text(body: Body, field: string, serviceCode: string, pattern?: RegExp): string {
  const value = optionalText(body, field, serviceCode, pattern);
  if (value === undefined) throw new SnapRefusal(missingFieldAnswer(serviceCode, field));
  return value;
}

function optionalText(body: Body, field: string, serviceCode: string, pattern?: RegExp): string | undefined {
  const value = valueAt(body, field);
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string" || (pattern && !pattern.test(value))) {
    throw new SnapRefusal(badFieldAnswer(serviceCode, field));
  }
  return value;
}

function valueAt(body: Body, field: string): unknown {
  let value: unknown = body;
  for (const key of field.split(".")) value = isRecord(value) ? value[key] : undefined;
  return value;
}

const VA_TYPE = /^[cor]$/;

export function readCreateVa(body: Body, serviceCode: string, now: Date): VaOrder {
  const type = text(body, "virtualAccountTrxType", serviceCode, VA_TYPE) as WinpayVaType;
  const customerNo = optionalText(body, "customerNo", serviceCode, CUSTOMER_NO);
  if (type !== "c" && customerNo === undefined) throw new SnapRefusal(missingFieldAnswer(serviceCode, "customerNo"));
  const virtualAccountName = text(body, "virtualAccountName", serviceCode, VA_NAME);
  const trxId = text(body, "trxId", serviceCode, TRX_ID);
  const totalAmount = readTotalAmount(body, type, serviceCode);
  const expiredDate = optionalText(body, "expiredDate", serviceCode, EXPIRED_DATE);
  if (type !== "o" && expiredDate === undefined) throw new SnapRefusal(missingFieldAnswer(serviceCode, "expiredDate"));
  const expiresAt = expiredDate === undefined ? undefined : parseSnapTimestamp(expiredDate);
  const tooSoon = expiresAt !== undefined && expiresAt.getTime() - now.getTime() <= MIN_EXPIRY_MS;
  if ((expiredDate !== undefined && expiresAt === undefined) || tooSoon || (expiresAt && expiresAt > latestExpiry(now))) {
    throw new SnapRefusal(badFieldAnswer(serviceCode, "expiredDate"));
  }
  const channel = text(body, "additionalInfo.channel", serviceCode);
  if (!Object.hasOwn(WINPAY_CHANNEL_TYPES, channel)) {
    throw new SnapRefusal(badFieldAnswer(serviceCode, "additionalInfo.channel"));
  }
  if (!channelSupports(channel, type)) throw new SnapRefusal(badFieldAnswer(serviceCode, "virtualAccountTrxType"));
  return { customerNo, virtualAccountName, trxId, totalAmount, type, expiredDate, expiresAt, channel };
}

/** Mandatory for `c`/`r`: a value of at most 14 characters in whole rupiah, in IDR. */
function readTotalAmount(body: Body, type: WinpayVaType, serviceCode: string): Rupiah | undefined {
  if (valueAt(body, "totalAmount") === undefined) {
    if (type === "o") return undefined;
    throw new SnapRefusal(missingFieldAnswer(serviceCode, "totalAmount"));
  }
  const value = text(body, "totalAmount.value", serviceCode, AMOUNT_VALUE);
  text(body, "totalAmount.currency", serviceCode, /^IDR$/);
  const amount = parseRupiah(value);
  if (amount === undefined || amount <= 0n) throw new SnapRefusal(badFieldAnswer(serviceCode, "totalAmount.value"));
  return amount;
}

export interface VaLookup {
  contractId: string;
  trxId: string;
}

/** inquiry-va: `trxId` and `additionalInfo.contractId`. */
export function readInquiryVa(body: Body, serviceCode: string): VaLookup {
  return {
    trxId: text(body, "trxId", serviceCode, TRX_ID),
    contractId: text(body, "additionalInfo.contractId", serviceCode),
  };
}

/** status: the table puts `trxId` at the top, the sample in `additionalInfo`; either will do. */
export function readPaymentStatus(body: Body, serviceCode: string): VaLookup & { virtualAccountNo: string } {
  const trxId = optionalText(body, "trxId", serviceCode, TRX_ID) ?? text(body, "additionalInfo.trxId", serviceCode, TRX_ID);
  return {
    virtualAccountNo: text(body, "virtualAccountNo", serviceCode),
    trxId,
    contractId: text(body, "additionalInfo.contractId", serviceCode),
  };
}

/** delete-va: `virtualAccountNo`, `trxId`, `additionalInfo.contractId`. */
export function readDeleteVa(body: Body, serviceCode: string): VaLookup & { virtualAccountNo: string } {
  return {
    virtualAccountNo: text(body, "virtualAccountNo", serviceCode),
    trxId: text(body, "trxId", serviceCode, TRX_ID),
    contractId: text(body, "additionalInfo.contractId", serviceCode),
  };
}

/** simulate-payment (ours): `contractId` and, optionally, the `amount` money object. */
export function readSimulatePayment(body: Body, serviceCode: string): { contractId: string; amount: Rupiah | undefined } {
  const contractId = text(body, "contractId", serviceCode);
  if (body.amount === undefined) return { contractId, amount: undefined };
  const amount = parseSnapMoney(body.amount);
  if (amount === undefined) throw new SnapRefusal(badFieldAnswer(serviceCode, "amount"));
  return { contractId, amount };
}
