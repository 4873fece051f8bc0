import { DomainError, type ErrorKind } from "../../domain/errors.js";
import { type ProviderHttpResponse, providerUnavailable } from "../shared/http.js";
import { jsonObject, parseJsonObject } from "../shared/wire-helpers.js";
import { AYOCONNECT } from "./transformers.js";

/**
 * Ayoconnect's legacy API answers 401 for token trouble and **503** for everything else — bad
 * headers, validation, unknown VA and server trouble alike (reference §7.2). What went wrong is in
 * the body: `{responseCode, responseMessage, errors:[{code, message, details}]}` with the 7-digit codes
 * of Ayoconnect's error table (HTTP-like status + service + case, e.g. `4002402`). `details` starts
 * with the wire field at fault (`virtualAccountPhone: …`), which we turn into OUR field name.
 */

const OUR_FIELD: Readonly<Record<string, string>> = {
  virtualAccountName: "customer.name",
  virtualAccountPhone: "customer.phone",
  virtualAccountNumber: "number_suffix",
  transactionId: "idempotency_key",
  bankCode: "bank_code",
  expiresIn: "expires_at",
  totalAmount: "amount.fixed.amount",
  billDetails: "description",
  virtualAccountConfig: "usage",
  "virtualAccountConfig.virtualAccountType": "usage",
  "virtualAccountConfig.amountType": "amount",
};

const KIND_OF_CODE: Readonly<Record<string, ErrorKind>> = {
  "4092400": "ALREADY_EXISTS",
  "4042412": "NOT_FOUND",
  "4042413": "INVALID_ARGUMENT",
  "4042414": "FAILED_PRECONDITION",
  "4042519": "FAILED_PRECONDITION",
  "5042400": "DEADLINE_EXCEEDED",
};

export function ayoconnectError(response: ProviderHttpResponse): DomainError {
  const [first] = readErrors(response.text);
  if (response.status === 401) {
    // Nothing from an authentication exchange is echoed into an error.
    return new DomainError(
      "FAILED_PRECONDITION",
      `${AYOCONNECT} refused our credentials (${first?.code ?? "401"}): check the provider account configuration`,
      { provider: AYOCONNECT, providerCode: first?.code ?? "401" },
    );
  }
  if (!first || response.status < 400) return providerUnavailable(AYOCONNECT, response);
  const kind = KIND_OF_CODE[first.code] ?? defaultKind(first.code);
  const facts = {
    provider: AYOCONNECT,
    providerCode: first.code,
    providerMessage: `${first.message}: ${first.details}`,
  };
  if (kind === "UNAVAILABLE") return new DomainError(kind, `${AYOCONNECT} is having trouble: ${first.message}`, facts);
  if (kind === "DEADLINE_EXCEEDED") return new DomainError(kind, `${AYOCONNECT} timed out at the bank`, facts);
  const wireField = /^([A-Za-z.]+):/.exec(first.details)?.[1];
  const field = wireField !== undefined && Object.hasOwn(OUR_FIELD, wireField) ? OUR_FIELD[wireField] : undefined;
  const reason = wireField === undefined ? first.details : first.details.slice(wireField.length + 1).trim();
  const message = `${field ?? wireField ?? first.message}: ${reason} (${AYOCONNECT} ${first.code})`;
  return new DomainError(kind, message, field === undefined ? facts : { ...facts, field });
}

function defaultKind(code: string): ErrorKind {
  if (code.startsWith("5")) return "UNAVAILABLE";
  return code.startsWith("400") ? "INVALID_ARGUMENT" : "FAILED_PRECONDITION";
}

/** The error items of a body, if it has any usable ones. */
export function readErrors(text: string): Array<{ code: string; message: string; details: string }> {
  const errors = parseJsonObject(text)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((item) => {
    const { code, message, details } = jsonObject(item) ?? {};
    return typeof code === "string" && typeof message === "string"
      ? [{ code, message, details: typeof details === "string" ? details : "" }]
      : [];
  });
}
