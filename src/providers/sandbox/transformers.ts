import { DomainError, type ErrorFacts } from "../../domain/errors.js";
import { parseRupiah, type Rupiah } from "../../domain/money.js";
import { MAX_VA_DIGITS } from "../../domain/virtual-account.js";
import type { HttpAnswer, PaymentNotification, ProviderCreateRequest, RecordingResult } from "../provider.js";
import { isRecord, jsonAnswer } from "../shared/wire-helpers.js";

/** The sandbox wire format and its pure mapping to and from our model. */

export const PROVIDER = "sandbox";

/** Whole rupiah as the sandbox writes them: digits, no leading zero, at most 12. */
export const WIRE_AMOUNT = /^[1-9][0-9]{0,11}$/;
const VA_ID = /^sbva_[0-9a-f]{24}$/;
const PAYMENT_ID = /^sbpay_[0-9a-f]{24}$/;
const VA_NUMBER = new RegExp(`^[0-9]{1,${MAX_VA_DIGITS}}$`);
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export const PAYMENT_EVENT = "payment.succeeded";

export type WireUsage = "single" | "multi";
export type WireAmountType = "fixed" | "open" | "range";
export type WireVaStatus = "ACTIVE" | "PAID" | "COMPLETED" | "CANCELLED" | "EXPIRED";

export interface WireAmountFields {
  amount?: string;
  min_amount?: string;
  max_amount?: string;
}

export interface WireCreateRequest extends WireAmountFields {
  external_id: string;
  bank_code: string;
  name: string;
  usage: WireUsage;
  amount_type: WireAmountType;
  expires_at: string;
  suffix?: string;
  description?: string;
}

export interface WireVirtualAccount extends WireAmountFields {
  id: string;
  external_id: string;
  merchant_id: string;
  bank_code: string;
  va_number: string;
  name: string;
  usage: WireUsage;
  amount_type: WireAmountType;
  expires_at: string;
  status: WireVaStatus;
  created_at: string;
}

export interface WireError {
  error_code: string;
  message: string;
  field?: string;
}

export interface WireSimulatePayment {
  amount: string;
  force?: boolean;
}

export interface WirePaymentAccepted {
  payment_id: string;
  status: "PENDING_CALLBACK";
}

export interface WirePaymentCallback {
  event: typeof PAYMENT_EVENT;
  payment_id: string;
  virtual_account_id: string;
  external_id: string;
  merchant_id: string;
  va_number: string;
  bank_code: string;
  amount: string;
  fee: string;
  paid_at: string;
}

/** Sandbox field name → our request's field path, per operation. */
export type FieldPaths = Readonly<Record<string, string>>;

export const CREATE_FIELD_PATHS: FieldPaths = {
  external_id: "idempotency_key",
  bank_code: "bank_code",
  name: "customer.name",
  usage: "usage",
  amount_type: "amount",
  amount: "amount.fixed.amount",
  min_amount: "amount.range.min",
  max_amount: "amount.range.max",
  expires_at: "expires_at",
  suffix: "number_suffix",
  description: "description",
};

export const SIMULATE_PAYMENT_FIELD_PATHS: FieldPaths = { amount: "amount" };

export const NO_FIELD_PATHS: FieldPaths = {};

export function toWireCreateRequest(request: ProviderCreateRequest): WireCreateRequest {
  return {
    external_id: request.externalId,
    bank_code: request.bankCode,
    name: request.customer.name,
    usage: request.usage === "SINGLE" ? "single" : "multi",
    ...toWireAmount(request.amount),
    expires_at: request.expiresAt.toISOString(),
    ...(request.numberSuffix === "" ? {} : { suffix: request.numberSuffix }),
    ...(request.description === "" ? {} : { description: request.description }),
  };
}

function toWireAmount(rule: ProviderCreateRequest["amount"]): WireAmountFields & { amount_type: WireAmountType } {
  switch (rule.type) {
    case "FIXED":
      return { amount_type: "fixed", amount: rule.amount.toString() };
    case "OPEN":
      return { amount_type: "open" };
    case "RANGE":
      return { amount_type: "range", min_amount: rule.min.toString(), max_amount: rule.max.toString() };
  }
}

export const toWireSimulatePayment = (amount: Rupiah): WireSimulatePayment => ({
  amount: amount.toString(),
  force: true,
});

/** The parts of a VA answer we keep; undefined when the answer is not a sandbox VA. */
export function readWireVirtualAccount(body: unknown): { id: string; vaNumber: string } | undefined {
  if (!isRecord(body)) return undefined;
  const { id, va_number } = body;
  if (!matches(id, VA_ID) || !matches(va_number, VA_NUMBER)) return undefined;
  return { id, vaNumber: va_number };
}

/**
 * The VA a lookup by external_id found, if it was made with the same terms as `request` (expiry and
 * description aside: a retry recomputes them). Used to adopt what a crashed earlier attempt created.
 */
export function findSameTermsVirtualAccount(
  body: unknown,
  request: WireCreateRequest,
): { id: string; vaNumber: string } | undefined {
  const data = isRecord(body) && Array.isArray(body.data) ? body.data : [];
  const terms = ["external_id", "bank_code", "name", "usage", "amount_type", "amount", "min_amount", "max_amount"] as const;
  for (const candidate of data) {
    if (!isRecord(candidate)) continue;
    if (terms.some((key) => candidate[key] !== request[key])) continue;
    const va = readWireVirtualAccount(candidate);
    if (va && (request.suffix === undefined || va.vaNumber.endsWith(request.suffix))) return va;
  }
  return undefined;
}

export function readWirePaymentAccepted(body: unknown): { providerPaymentRef: string } | undefined {
  if (!isRecord(body) || !matches(body.payment_id, PAYMENT_ID)) return undefined;
  return { providerPaymentRef: body.payment_id };
}

export function readWireError(body: unknown): WireError | undefined {
  if (!isRecord(body)) return undefined;
  const { error_code, message, field } = body;
  if (typeof error_code !== "string" || typeof message !== "string") return undefined;
  return typeof field === "string" ? { error_code, message, field } : { error_code, message };
}

/**
 * Our error for a sandbox refusal, or undefined when the status means the sandbox is in trouble
 * rather than refusing us (the caller then reports it as unavailable).
 */
export function toDomainError(status: number, error: WireError, fields: FieldPaths): DomainError | undefined {
  const facts: ErrorFacts = { provider: PROVIDER, providerCode: error.error_code, providerMessage: error.message };
  const refused = (kind: DomainError["kind"], field?: string) =>
    new DomainError(kind, `${PROVIDER} refused the request (${error.error_code}): ${error.message}`, {
      ...(field === undefined ? {} : { field }),
      ...facts,
    });
  switch (status) {
    case 400:
      if (error.error_code === "BANK_NOT_SUPPORTED") return refused("INVALID_ARGUMENT", "bank_code");
      if (error.error_code === "SUFFIX_TOO_LONG") return refused("INVALID_ARGUMENT", "number_suffix");
      return refused("INVALID_ARGUMENT", error.field === undefined ? undefined : fields[error.field]);
    case 401:
      return new DomainError("FAILED_PRECONDITION", `${PROVIDER} rejected our credentials`, facts);
    case 404:
      return refused("NOT_FOUND");
    case 409:
      if (error.error_code === "VA_NUMBER_IN_USE") return refused("ALREADY_EXISTS", "number_suffix");
      if (error.error_code === "DUPLICATE_EXTERNAL_ID") return refused("ALREADY_EXISTS", fields.external_id);
      return refused("FAILED_PRECONDITION");
    default:
      return undefined;
  }
}

export type CallbackReading =
  | { ok: true; notification: PaymentNotification }
  | { ok: false; field: string | undefined; problem: string };

/** Reads a verified callback body into a payment notification, naming the first field at fault. */
export function readPaymentCallback(rawPayload: string, merchantId: string): CallbackReading {
  let body: unknown;
  try {
    body = JSON.parse(rawPayload);
  } catch {
    return { ok: false, field: undefined, problem: "body is not JSON" };
  }
  if (!isRecord(body)) return { ok: false, field: undefined, problem: "body is not a JSON object" };
  const fault = (field: string, problem: string): CallbackReading => ({ ok: false, field, problem });
  if (body.event !== PAYMENT_EVENT) return fault("event", `must be ${PAYMENT_EVENT}`);
  if (body.merchant_id !== merchantId) return fault("merchant_id", "is not our merchant");
  if (!matches(body.payment_id, PAYMENT_ID)) return fault("payment_id", "is not a sandbox payment id");
  if (!matches(body.va_number, VA_NUMBER)) return fault("va_number", `must be 1..${MAX_VA_DIGITS} digits`);
  if (!matches(body.virtual_account_id, VA_ID)) return fault("virtual_account_id", "is not a sandbox VA id");
  const amount = readRupiah(body.amount);
  if (amount === undefined || amount === 0n) return fault("amount", "must be a positive whole-rupiah string");
  const fee = body.fee === undefined ? undefined : readRupiah(body.fee);
  if (body.fee !== undefined && fee === undefined) return fault("fee", "must be a whole-rupiah string");
  const paidAt = parseIsoInstant(body.paid_at);
  if (paidAt === undefined) return fault("paid_at", "must be an ISO-8601 instant");
  return {
    ok: true,
    notification: {
      providerAccount: body.merchant_id,
      providerPaymentRef: body.payment_id,
      vaNumber: body.va_number,
      providerVaId: body.virtual_account_id,
      amount,
      fee,
      paidAt,
      rawPayload,
    },
  };
}

/** What the sandbox expects back from our webhook once we have tried to record its payment. */
export function callbackAcknowledgement(result: RecordingResult): HttpAnswer {
  if (result === "REFUTED") return jsonAnswer(404, { error: "PAYMENT_NOT_CONFIRMED" });
  if (result === "ID_REUSED") return jsonAnswer(409, { error: "ID_REUSED" });
  return jsonAnswer(200, { received: true, duplicate: result === "DUPLICATE" });
}

/** An ISO-8601 instant with an explicit offset, on a day that exists; anything else is undefined. */
export function parseIsoInstant(value: unknown): Date | undefined {
  if (typeof value !== "string") return undefined;
  const parts = ISO_INSTANT.exec(value);
  if (!parts) return undefined;
  const [year, month, day] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return undefined;
  const epochMs = Date.parse(value);
  return Number.isNaN(epochMs) ? undefined : new Date(epochMs);
}

const matches = (value: unknown, pattern: RegExp): value is string => typeof value === "string" && pattern.test(value);

const readRupiah = (value: unknown): Rupiah | undefined => (typeof value === "string" ? parseRupiah(value) : undefined);
