import { DomainError, type ErrorFacts } from "../../domain/errors.js";

/**
 * A create retried after its answer was lost meets the VA the first attempt made (the provider
 * refuses the repeated trxId), and cannot adopt it when only the lost answer named it. A new trxId
 * would make a second VA, so the caller must decide.
 */
export function unadoptableVa(
  provider: string,
  trxId: string,
  cause: DomainError,
  lookup = "cannot look it up by trxId",
  facts: ErrorFacts = {},
): DomainError {
  return new DomainError(
    "FAILED_PRECONDITION",
    `${provider} already holds a VA for trxId ${trxId} from an attempt whose answer was lost, and ${lookup}`,
    { ...cause.facts, provider, ...facts },
  );
}
