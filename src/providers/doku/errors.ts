import { DomainError } from "../../domain/errors.js";
import { type ProviderHttpResponse, providerUnavailable } from "../shared/http.js";
import { DOKU, readDokuError, requestFieldNamedIn } from "./transformers.js";

type Operation = "create" | "cancel" | "simulate";

export const isSuccess = (status: number) => status >= 200 && status < 300;

/**
 * Maps a DOKU refusal to our error kinds: the caller's fault only where DOKU names a field the
 * caller gave; our credentials, clock or protocol otherwise. A body that is no DOKU error means DOKU
 * misbehaved.
 */
export function refusal(operation: Operation, response: ProviderHttpResponse, json: unknown): DomainError {
  const error = readDokuError(json);
  if (error === undefined) return providerUnavailable(DOKU, response);
  const facts = {
    provider: DOKU,
    providerCode: error.code === "" ? String(response.status) : error.code,
    providerMessage: error.message.slice(0, 500),
  };
  const { status } = response;
  if (status === 401 || status === 403) {
    return new DomainError("FAILED_PRECONDITION", `doku refused our credentials: ${facts.providerMessage}`, facts);
  }
  if (operation === "create" && status === 409) {
    const clashingField = requestFieldNamedIn(error.message) ?? "idempotency_key";
    return new DomainError("ALREADY_EXISTS", `doku already has it: ${facts.providerMessage}`, {
      ...facts,
      field: clashingField,
    });
  }
  const field = operation === "create" && status === 400 ? requestFieldNamedIn(error.message) : undefined;
  if (field !== undefined) {
    return new DomainError("INVALID_ARGUMENT", `doku refused the request: ${facts.providerMessage}`, {
      ...facts,
      field,
    });
  }
  if (operation === "simulate" && status === 400) {
    return new DomainError("INVALID_ARGUMENT", `doku refused the payment: ${facts.providerMessage}`, {
      ...facts,
      field: "amount",
    });
  }
  return new DomainError("FAILED_PRECONDITION", `doku refused to ${operation}: ${facts.providerMessage}`, facts);
}
