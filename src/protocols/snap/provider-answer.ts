import { DomainError, type ErrorKind } from "../../domain/errors.js";
import { type ProviderHttpResponse, parseProviderJson, providerUnavailable } from "../../providers/shared/http.js";
import { isRecord } from "../../providers/shared/wire-helpers.js";
import { isSnapSuccess, parseSnapResponseCode, type SnapOutcome, type SnapResponseCode } from "./response-code.js";

/**
 * What a provider's SNAP refusal means for our caller. 401s and "partner not found" are our own
 * credentials or configuration, not something the caller can fix, hence INTERNAL.
 */
export function snapErrorKind(code: SnapResponseCode): ErrorKind {
  const { httpStatus, caseCode } = code;
  if (httpStatus === 400) return "INVALID_ARGUMENT";
  if (httpStatus === 401) return "INTERNAL";
  if (httpStatus === 403) return "FAILED_PRECONDITION";
  if (httpStatus === 404) {
    if (caseCode === "13") return "INVALID_ARGUMENT";
    if (caseCode === "14" || caseCode === "19") return "FAILED_PRECONDITION";
    if (caseCode === "16") return "INTERNAL";
    if (caseCode === "18") return "ALREADY_EXISTS";
    return "NOT_FOUND";
  }
  if (httpStatus === 405) return "FAILED_PRECONDITION";
  // 409xx00 is a reused X-EXTERNAL-ID: the request may simply be sent again with a fresh one.
  if (httpStatus === 409) return caseCode === "00" ? "ABORTED" : "ALREADY_EXISTS";
  if (httpStatus === 504) return "DEADLINE_EXCEEDED";
  if (httpStatus >= 500 || httpStatus === 429) return "UNAVAILABLE";
  return "FAILED_PRECONDITION";
}

/** The field a `400xx01`/`400xx02` message names: `Invalid Field Format {expiredDate}`. */
export function fieldNamedIn(responseMessage: string): string | undefined {
  const braced = /\{([^{}]+)\}/.exec(responseMessage);
  if (braced?.[1]) return braced[1].trim();
  return /^Invalid (?:Field Format|Mandatory Field)\s+([\w.[\]-]+)$/i.exec(responseMessage.trim())?.[1];
}

/** Translates a provider's field name (`expiredDate`) into our request's (`expires_at`). */
export type RequestFieldOf = (providerField: string) => string | undefined;

/** A `RequestFieldOf` that knows only the table's own names (not `constructor` or any other an object inherits). */
export function requestFieldsFrom(table: Readonly<Record<string, string>>): RequestFieldOf {
  const requestFields = new Map(Object.entries(table));
  return (providerField) => requestFields.get(providerField);
}

/** A provider's SNAP refusal as a DomainError; the raw code and message stay in `facts`. */
export function snapProviderError(
  provider: string,
  code: SnapResponseCode,
  responseCode: string,
  responseMessage: string,
  requestFieldOf: RequestFieldOf = () => undefined,
): DomainError {
  const providerField = code.httpStatus === 400 ? fieldNamedIn(responseMessage) : undefined;
  const field = providerField === undefined ? undefined : requestFieldOf(providerField);
  return new DomainError(snapErrorKind(code), `${provider} refused the request: ${responseCode} ${responseMessage}`, {
    provider,
    providerCode: responseCode,
    providerMessage: responseMessage,
    ...(field === undefined ? {} : { field }),
  });
}

/**
 * Reads a SNAP answer and returns its body on success: a 2xx status and a 2xx `responseCode` (the
 * token service may leave the code out on success). A SNAP refusal becomes a DomainError of the
 * matching kind; an unreadable answer, or a 5xx without a SNAP body, is UNAVAILABLE.
 */
export function readSnapAnswer(
  provider: string,
  response: ProviderHttpResponse,
  requestFieldOf?: RequestFieldOf,
): Record<string, unknown> {
  const json = response.status >= 500 ? parsedOrUndefined(response.text) : parseProviderJson(provider, response);
  if (!isRecord(json)) throw providerUnavailable(provider, response);
  const code = parseSnapResponseCode(json.responseCode);
  const httpOk = response.status >= 200 && response.status < 300;
  const codeOk = code === undefined ? json.responseCode === undefined : isSnapSuccess(code);
  if (httpOk && codeOk) return json;
  if (code === undefined) throw providerUnavailable(provider, response);
  if (isSnapSuccess(code)) {
    // The body of a success may hold a token: keep it out of the error.
    throw new DomainError("UNAVAILABLE", `${provider} answered HTTP ${response.status} with a success code`, {
      provider,
      providerCode: String(json.responseCode),
    });
  }
  const message = typeof json.responseMessage === "string" ? json.responseMessage : "";
  throw snapProviderError(provider, code, String(json.responseCode), message, requestFieldOf);
}

function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether `error` is a provider's SNAP refusal with one of these outcomes, in any service (`409xx01` for duplicateReference). */
export function isSnapRefusal(error: unknown, ...outcomes: readonly SnapOutcome[]): error is DomainError {
  if (!(error instanceof DomainError)) return false;
  const code = parseSnapResponseCode(error.facts.providerCode);
  return (
    code !== undefined &&
    outcomes.some(({ httpStatus, caseCode }) => code.httpStatus === httpStatus && code.caseCode === caseCode)
  );
}
