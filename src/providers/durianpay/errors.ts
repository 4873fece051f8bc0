import { DomainError } from "../../domain/errors.js";
import { type ProviderHttpResponse, providerUnavailable } from "../shared/http.js";
import { jsonObject, parseJsonObject } from "../shared/wire-helpers.js";
import { DURIANPAY } from "./transformers.js";

/**
 * Durianpay error answers (reference §6.1–6.3) as DomainErrors, with `facts.field` in OUR request's
 * field names. Shapes: form errors `{error_code:"DPAY_INVALID_REQUEST", errors:[{field,message}]}`,
 * others `{error, error_code}`, the sandbox simulate endpoint `{data:{status, reason}}`.
 */

const OUR_FIELD: Readonly<Record<string, string>> = {
  bank_code: "bank_code",
  name: "customer.name",
  customer: "customer",
  "customer.given_name": "customer.name",
  "customer.email": "customer.email",
  "customer.mobile": "customer.phone",
  expiry_minutes: "expires_at",
  account_suffix: "number_suffix",
  amount: "amount.fixed.amount",
  min_amount: "amount.range.min",
  max_amount: "amount.range.max",
  is_closed: "amount",
  is_reusable: "usage",
  va_ref_id: "idempotency_key",
};

/** Durianpay's per-bank refusals of a combination, named as the rule the caller broke. */
const COMBINATION_RULES: Readonly<Record<string, { field: string; rule: string }>> = {
  DPAY_STATIC_VA_NOT_SUPPORTED: {
    field: "usage",
    rule: "this bank does not issue multi-use (static) VAs through durianpay",
  },
  DPAY_STATIC_CLOSED_VA_NOT_SUPPORTED: {
    field: "usage",
    rule: "this bank does not issue multi-use VAs with a fixed amount (static closed VA)",
  },
  DPAY_DYNAMIC_OPEN_VA_NOT_SUPPORTED: {
    field: "amount",
    rule: "this bank does not issue single-use VAs with an open or range amount (dynamic open VA)",
  },
  DPAY_MIN_MAX_AMOUNT_NOT_SUPPORTED: {
    field: "amount.range",
    rule: "this bank does not take a minimum/maximum amount",
  },
  DPAY_STATIC_VA_EXPIRY_MINUTES_NOT_SUPPORTED: {
    field: "expires_at",
    rule: "this bank does not take an expiry for multi-use (static) VAs",
  },
  DPAY_STATIC_VA_AUTO_DISABLING_VA_NOT_SUPPORTED: {
    field: "usage",
    rule: "this bank cannot disable a multi-use (static) VA after a payment",
  },
};

interface ErrorBody {
  code: string;
  message: string;
  formErrors: Array<{ field: string; message: string }>;
}

export function durianpayError(response: ProviderHttpResponse): DomainError {
  const body = response.status < 500 ? readErrorBody(response) : undefined;
  if (!body) return providerUnavailable(DURIANPAY, response);
  const facts = { provider: DURIANPAY, providerCode: body.code, providerMessage: body.message };
  if (response.status === 401) {
    // The body is not echoed: nothing from an authentication exchange goes into an error.
    return new DomainError(
      "FAILED_PRECONDITION",
      `${DURIANPAY} refused our server key (${body.code}): check the provider account configuration`,
      { provider: DURIANPAY, providerCode: body.code },
    );
  }
  if (response.status === 404) return new DomainError("NOT_FOUND", `${DURIANPAY} has no such virtual account`, facts);
  const [formError] = body.formErrors;
  if (formError) {
    const field = Object.hasOwn(OUR_FIELD, formError.field) ? OUR_FIELD[formError.field] : undefined;
    const message = `${field ?? formError.field}: ${formError.message} (${DURIANPAY} ${formError.field})`;
    return new DomainError("INVALID_ARGUMENT", message, field === undefined ? facts : { ...facts, field });
  }
  const combination = COMBINATION_RULES[body.code];
  if (combination) {
    const message = `${combination.field}: ${combination.rule} (${body.code})`;
    return new DomainError("INVALID_ARGUMENT", message, { ...facts, field: combination.field });
  }
  switch (body.code) {
    case "DPAY_CANNOT_PATCH_PAID_VA":
      return new DomainError("FAILED_PRECONDITION", "virtual account is paid and can no longer be changed", {
        ...facts,
        field: "virtual_account_id",
      });
    case "DPAY_PATCHING_VA_NOT_SUPPORTED":
      return new DomainError("FAILED_PRECONDITION", "this bank does not allow changing a durianpay VA", {
        ...facts,
        field: "virtual_account_id",
      });
  }
  if (/already created/i.test(body.message)) {
    return new DomainError("ALREADY_EXISTS", "number_suffix: this VA number is already taken at the bank", {
      ...facts,
      field: "number_suffix",
    });
  }
  return new DomainError("FAILED_PRECONDITION", `${DURIANPAY} refused the request: ${body.message}`, facts);
}

function readErrorBody(response: ProviderHttpResponse): ErrorBody | undefined {
  const body = parseJsonObject(response.text);
  if (!body) return undefined;
  const { error_code, error, errors } = body;
  const formErrors = Array.isArray(errors) ? errors.flatMap(readFormError) : [];
  const simulateReason = jsonObject(body.data)?.reason;
  const message =
    typeof error === "string"
      ? error
      : typeof simulateReason === "string"
        ? simulateReason
        : formErrors.map((e) => `${e.field}: ${e.message}`).join("; ");
  return { code: typeof error_code === "string" ? error_code : String(response.status), message, formErrors };
}

function readFormError(value: unknown): Array<{ field: string; message: string }> {
  const { field, message } = jsonObject(value) ?? {};
  return typeof field === "string" && typeof message === "string" ? [{ field, message }] : [];
}
