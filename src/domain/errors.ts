/**
 * Failure kinds the domain and the providers can report. The transport maps each to a Connect code;
 * the domain itself knows nothing of Connect.
 */
export type ErrorKind =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "FAILED_PRECONDITION"
  | "ABORTED"
  | "UNAVAILABLE"
  | "DEADLINE_EXCEEDED"
  | "UNAUTHENTICATED"
  | "INTERNAL";

export interface ErrorFacts {
  /** The request field at fault, in proto field-path form, e.g. `amount.fixed.amount`. */
  field?: string;
  /** The provider's own code and message, kept for callers to see (never secrets). */
  provider?: string;
  providerCode?: string;
  providerMessage?: string;
}

export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly facts: ErrorFacts = {},
  ) {
    super(message);
  }
}

export const invalidArgument = (field: string, message: string) =>
  new DomainError("INVALID_ARGUMENT", `${field}: ${message}`, { field });

export const notFound = (what: string) => new DomainError("NOT_FOUND", `${what} not found`);
