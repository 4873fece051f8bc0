import { TextDecoder } from "node:util";
import {
  create,
  type DescField,
  type DescMessage,
  type DescOneof,
  fromJson,
  fromJsonString,
  getOption,
  ScalarType,
} from "@bufbuild/protobuf";
import {
  type FieldRules,
  field as fieldRulesOption,
  type Violation,
  ViolationsSchema,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema } from "../../gen/va/v1/va_pb.js";

/**
 * Bad input in words a caller can act on: the request field path (proto names, e.g.
 * `amount.fixed.amount`) and what the field accepts, taken from its type and its buf.validate
 * rules. The Violations detail keeps rule ids and paths for machines.
 */

/** JSON reading for one RPC's requests: unknown fields refused, every failure named by field path. */
export function strictJsonOptions(schema: DescMessage) {
  return { ignoreUnknownFields: false, textDecoder: new CheckedJsonDecoder(schema) };
}

/**
 * connect-es offers no hook between reading the body and reporting a decoding failure (it happens
 * before interceptors run), so the text is checked here, where it is decoded; a ConnectError thrown
 * here reaches the caller unchanged.
 */
class CheckedJsonDecoder extends TextDecoder {
  constructor(private readonly schema: DescMessage) {
    super();
  }

  override decode(...args: Parameters<TextDecoder["decode"]>): string {
    const text = super.decode(...args);
    try {
      fromJsonString(this.schema, text, { ignoreUnknownFields: false });
    } catch {
      throw jsonInputError(this.schema, text);
    }
    return text;
  }
}

function jsonInputError(schema: DescMessage, text: string): ConnectError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return invalid("", `The request body is not valid JSON (${(error as Error).message}).`);
  }
  const problem = jsonProblem(schema, json, []) ?? { path: [], text: "cannot be read as this request" };
  const path = problem.path.join(".");
  return invalid(path, sentence(path || "The request", problem.text));
}

interface JsonProblem {
  path: string[];
  text: string;
}

/** The first field of `json` that `schema` cannot take, tried one field at a time with protobuf-es itself. */
function jsonProblem(schema: DescMessage, json: unknown, path: string[]): JsonProblem | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return { path, text: "must be a JSON object" };
  const oneofs = new Map<DescOneof, DescField>();
  for (const [key, value] of Object.entries(json)) {
    const field = schema.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field) {
      const known = list(
        schema.fields.map((f) => f.jsonName),
        "and",
      );
      return { path: [...path, key], text: `is not a field here (the fields are ${known})` };
    }
    const at = [...path, field.name];
    if (value === null) continue;
    if (field.oneof) {
      const other = oneofs.get(field.oneof);
      if (other)
        return {
          path: [...path, field.oneof.name],
          text: `takes only one of ${list(
            field.oneof.fields.map((f) => f.name),
            "or",
          )}, not both ${other.name} and ${field.name}`,
        };
      oneofs.set(field.oneof, field);
    }
    if (field.fieldKind === "message" && !isWellKnown(field.message)) {
      const inner = jsonProblem(field.message, value, at);
      if (inner) return inner;
      continue;
    }
    if (field.fieldKind === "list") {
      if (!Array.isArray(value)) return { path: at, text: `must be a list of ${allowedValues(field, itemRules(field))}` };
      for (const [index, item] of value.entries()) {
        const itemPath = [...path, `${field.name}[${index}]`];
        if (field.listKind === "message" && !isWellKnown(field.message)) {
          const inner = jsonProblem(field.message, item, itemPath);
          if (inner) return inner;
        } else if (!readable(schema, key, [item])) {
          return { path: itemPath, text: `must be ${allowedValues(field, itemRules(field))}` };
        }
      }
      continue;
    }
    if (!readable(schema, key, value)) return { path: at, text: `must be ${allowedValues(field, rulesOf(field))}` };
  }
  return undefined;
}

function readable(schema: DescMessage, key: string, value: unknown): boolean {
  try {
    fromJson(schema, { [key]: value } as never, { ignoreUnknownFields: false });
    return true;
  } catch {
    return false;
  }
}

const isWellKnown = (message: DescMessage) => message.typeName.startsWith("google.protobuf.");

/**
 * The validation failure of @connectrpc/validate rewritten for people: one sentence per violation,
 * each starting with the field path; the violations keep their ids and paths with the same words.
 */
export function humanViolations(error: ConnectError, schema: DescMessage): ConnectError {
  const [violations] = error.findDetails(ViolationsSchema);
  if (!violations || violations.violations.length === 0) return error;
  const described = violations.violations.map((violation) => ({ ...violation, message: predicate(violation, schema) }));
  const sentences = described.map((violation) => sentence(pathOf(violation), violation.message));
  const first = described[0] as Violation;
  return new ConnectError(sentences.join(" "), Code.InvalidArgument, error.metadata, [
    { desc: ViolationsSchema, value: create(ViolationsSchema, { violations: described }) },
    { desc: ErrorDetailSchema, value: create(ErrorDetailSchema, { field: pathOf(first) }) },
  ]);
}

function predicate(violation: Violation, schema: DescMessage): string {
  const target = resolve(schema, violation);
  const ruleId = violation.ruleId;
  if (target?.kind === "oneof" && ruleId === "required")
    return `is required: set one of ${list(
      target.oneof.fields.map((f) => f.name),
      "or",
    )}`;
  if (target?.kind !== "field") return violation.message;
  const { field } = target;
  const rules =
    violation.rule?.elements[0]?.fieldName === "repeated" &&
    field.fieldKind === "list" &&
    violation.rule.elements[1]?.fieldName === "items"
      ? itemRules(field)
      : rulesOf(field);
  if (ruleId === "required") return "is required";
  if (/^string\.(min_len|max_len|len)/.test(ruleId)) return `must be ${lengthText(rules)}`;
  if (ruleId === "string.pattern") return `must match the pattern ${stringRules(rules)?.pattern}`;
  if (ruleId === "string.email") return "must be an email address";
  if (/^(s?fixed|u?int|sint)(32|64)\./.test(ruleId) || ruleId.startsWith("enum."))
    return `must be ${allowedValues(field, rules)}`;
  if (ruleId === "repeated.max_items" && rules?.type.case === "repeated")
    return `must have at most ${rules.type.value.maxItems} items`;
  return violation.message;
}

type Target = { kind: "field"; field: DescField } | { kind: "oneof"; oneof: DescOneof } | undefined;

/** The field (or oneof) a violation's path ends at, walking the request schema by field number. */
function resolve(schema: DescMessage, violation: Violation): Target {
  const elements = violation.field?.elements ?? [];
  let message: DescMessage | undefined = schema;
  let target: Target;
  for (const element of elements) {
    if (!message) return undefined;
    const field: DescField | undefined = message.fields.find((f) => f.number === element.fieldNumber);
    if (!field) {
      const oneof = message.oneofs.find((o) => o.name === element.fieldName);
      return oneof ? { kind: "oneof", oneof } : undefined;
    }
    target = { kind: "field", field };
    message =
      field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message") ? field.message : undefined;
  }
  return target;
}

function pathOf(violation: Violation): string {
  return (violation.field?.elements ?? [])
    .map((e) => (e.subscript.case === "index" ? `${e.fieldName}[${e.subscript.value}]` : e.fieldName))
    .join(".");
}

function rulesOf(field: DescField): FieldRules | undefined {
  return getOption(field, fieldRulesOption);
}

function itemRules(field: DescField): FieldRules | undefined {
  const rules = rulesOf(field);
  return rules?.type.case === "repeated" ? rules.type.value.items : undefined;
}

function stringRules(rules: FieldRules | undefined) {
  return rules?.type.case === "string" ? rules.type.value : undefined;
}

/** What a field accepts, e.g. "a whole number from 1 to 999999999999" or "one of VA_USAGE_SINGLE or VA_USAGE_MULTI". */
export function allowedValues(field: DescField, rules: FieldRules | undefined): string {
  const kind = field.fieldKind === "list" ? field.listKind : field.fieldKind;
  if (kind === "enum" && field.enum) {
    const enumRules = rules?.type.case === "enum" ? rules.type.value : undefined;
    const allowed = field.enum.values
      .filter((v) => !enumRules?.in.length || enumRules.in.includes(v.number))
      .filter((v) => !enumRules?.notIn.includes(v.number))
      .map((v) => v.name);
    return `one of ${list(allowed, "or")}`;
  }
  if (kind === "message" && field.message) {
    return field.message.typeName === "google.protobuf.Timestamp" ? "an RFC 3339 time, e.g. 2026-12-31T23:59:59Z" : "an object";
  }
  switch (field.scalar) {
    case ScalarType.BOOL:
      return "true or false";
    case ScalarType.STRING:
      return rules?.type.case === "string" && (rules.type.value.minLen || rules.type.value.maxLen)
        ? `a string ${lengthText(rules)}`
        : "a string";
    case ScalarType.BYTES:
      return "base64-encoded bytes";
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return "a number";
    default:
      return `a whole number${rangeText(rules)}`;
  }
}

const INTEGER_RULES = new Set([
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "fixed32",
  "fixed64",
  "sfixed32",
  "sfixed64",
]);
type Bound = { case: string | undefined; value?: number | bigint };

function rangeText(rules: FieldRules | undefined): string {
  if (!rules || !INTEGER_RULES.has(rules.type.case ?? "")) return "";
  const { greaterThan, lessThan } = rules.type.value as { greaterThan: Bound; lessThan: Bound };
  const at = (bound: Bound, step: bigint) => (bound.value === undefined ? undefined : BigInt(bound.value) + step);
  const low = greaterThan.case === "gt" ? at(greaterThan, 1n) : at(greaterThan, 0n);
  const high = lessThan.case === "lt" ? at(lessThan, -1n) : at(lessThan, 0n);
  if (low !== undefined && high !== undefined) return ` from ${low} to ${high}`;
  if (low !== undefined) return ` of at least ${low}`;
  if (high !== undefined) return ` of at most ${high}`;
  return "";
}

function lengthText(rules: FieldRules | undefined): string {
  const s = stringRules(rules);
  const min = Number(s?.len || s?.minLen || 0);
  const max = Number(s?.len || s?.maxLen || 0);
  const chars = (n: number) => `${n} character${n === 1 ? "" : "s"}`;
  if (min && max) return min === max ? `exactly ${chars(min)} long` : `${min} to ${chars(max)} long`;
  if (max) return `at most ${chars(max)} long`;
  return `at least ${chars(min)} long`;
}

function list(items: string[], conjunction: "and" | "or"): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} ${conjunction} ${items.at(-1)}`;
}

function sentence(subject: string, text: string): string {
  const joined = subject ? (/^(is|must|takes|cannot)\b/.test(text) ? `${subject} ${text}` : `${subject}: ${text}`) : text;
  return joined.endsWith(".") ? joined : `${joined}.`;
}

function invalid(field: string, message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument, undefined, [
    { desc: ErrorDetailSchema, value: create(ErrorDetailSchema, { field }) },
  ]);
}
