import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema } from "../gen/va/v1/va_pb.js";

/**
 * Turns what clients receive into plain text and values. Shared by the CLI and the browser page
 * (web/app.ts), so it must not import anything Node-specific.
 */

export interface ErrorDescription {
  /** Connect code as on the wire, e.g. `invalid_argument`. */
  code: string;
  message: string;
  /** The request field at fault, when the server named one. */
  field?: string;
  provider?: string;
  providerCode?: string;
  providerMessage?: string;
  violations?: { field: string; rule: string; message: string }[];
}

/** `Code.InvalidArgument` → `invalid_argument` (the Connect protocol's spelling). */
export const codeName = (code: Code): string => (Code[code] ?? "unknown").replace(/(?<=[a-z])(?=[A-Z])/g, "_").toLowerCase();

export function describeError(error: unknown): ErrorDescription {
  const connectError = ConnectError.from(error);
  const description: ErrorDescription = { code: codeName(connectError.code), message: connectError.rawMessage };
  const [detail] = connectError.findDetails(ErrorDetailSchema);
  if (detail) {
    if (detail.field) description.field = detail.field;
    if (detail.provider) description.provider = detail.provider;
    if (detail.providerCode) description.providerCode = detail.providerCode;
    if (detail.providerMessage) description.providerMessage = detail.providerMessage;
  }
  const violations = connectError.findDetails(ViolationsSchema).flatMap((v) => v.violations);
  if (violations.length > 0) {
    description.violations = violations.map((v) => ({
      field: v.field?.elements.map((e) => e.fieldName).join(".") ?? "",
      rule: v.ruleId,
      message: v.message,
    }));
    description.field ??= description.violations[0]?.field;
  }
  return description;
}

/** One line per fact, for terminals and alert boxes. */
export function errorText(error: ErrorDescription): string {
  const lines = [`${error.code}: ${error.message}`];
  if (error.field) lines.push(`field: ${error.field}`);
  if (error.provider) {
    const code = error.providerCode ? ` ${error.providerCode}` : "";
    lines.push(`provider: ${error.provider}${code}${error.providerMessage ? ` ${error.providerMessage}` : ""}`);
  }
  return lines.join("\n");
}

/** 25000n → "Rp 25.000" (Indonesian grouping, whole rupiah). */
export function rupiah(amount: bigint): string {
  const sign = amount < 0n ? "-" : "";
  const digits = (amount < 0n ? -amount : amount).toString();
  return `Rp ${sign}${digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".")}`;
}
