import type { HttpAnswer } from "../../providers/provider.js";
import { jsonAnswer } from "../../providers/shared/wire-helpers.js";
import { formatSnapResponseCode, type SnapOutcome, SnapOutcomes } from "./response-code.js";

/**
 * A SNAP answer we give: the HTTP status is the code's first three digits and the body starts with
 * `responseCode` and `responseMessage`, e.g. `{"responseCode":"2002500","responseMessage":"Successful"}`.
 * `message` replaces the standard message (e.g. `Invalid Mandatory Field {paidAmount}`).
 */
export function snapAnswer(
  outcome: SnapOutcome,
  serviceCode: string,
  message: string = outcome.message,
  extra: Record<string, unknown> = {},
): HttpAnswer {
  const body = { responseCode: formatSnapResponseCode(outcome, serviceCode), responseMessage: message, ...extra };
  return jsonAnswer(outcome.httpStatus, body);
}

/** `400xx02 Invalid Mandatory Field {field}`. */
export const missingFieldAnswer = (serviceCode: string, field: string) =>
  snapAnswer(SnapOutcomes.invalidMandatoryField, serviceCode, `${SnapOutcomes.invalidMandatoryField.message} {${field}}`);

/** `400xx01 Invalid Field Format {field}`. */
export const badFieldAnswer = (serviceCode: string, field: string) =>
  snapAnswer(SnapOutcomes.invalidFieldFormat, serviceCode, `${SnapOutcomes.invalidFieldFormat.message} {${field}}`);

/** `401xx00 Unauthorized. <reason>`, e.g. `Unauthorized. Invalid Signature`. */
export const unauthorizedAnswer = (serviceCode: string, reason: string) =>
  snapAnswer(SnapOutcomes.unauthorized, serviceCode, `${SnapOutcomes.unauthorized.message}. ${reason}`);
