import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import fc from "fast-check";

/**
 * Shared pieces of the fuzz and security suites: fast-check settings, nasty values, JSON and byte
 * mutations, raw Connect / gRPC / webhook calls, and the checks every answer must pass.
 */

/** Fixed, so every run fuzzes the same inputs (no flakes); set FUZZ_SEED to explore others. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_125);

/** fast-check settings: a fixed seed, and the counterexample and seed printed on failure. */
export const fuzzParameters = (numRuns: number) => ({ numRuns, seed: FUZZ_SEED });

// ---------------------------------------------------------------------------------------------
// Answers

/** The only Connect codes bad input may produce. `unknown` and `internal` never. */
export const ALLOWED_CODES: ReadonlySet<string> = new Set([
  "invalid_argument",
  "not_found",
  "unauthenticated",
  "already_exists",
  "failed_precondition",
  "unimplemented",
  "resource_exhausted",
  "out_of_range",
]);

/**
 * The one exception: a body that is not decodable protobuf (or is compressed with an unnamed
 * encoding). connect-es 2.1.2 answers it `internal` before any of our code runs, the convention
 * grpc-go also follows ("grpc: error unmarshalling request"). Allowed only with exactly these
 * messages; the upstream change that would make it `invalid_argument` is named in the README.
 */
const UNDECODABLE_BODY = /^(parse binary: |received compressed envelope, but do not know how to decompress)/;
const undecodable = (code: string, message: string | undefined) =>
  (code === "internal" || code === "13") && UNDECODABLE_BODY.test(message ?? "");

/** Whether bad input may end a gRPC call with this status and message. */
export const allowedGrpcStatus = (status: number, message: string | undefined) =>
  ALLOWED_GRPC_STATUSES.has(status) || undecodable(String(status), message);

/** The same codes as gRPC status numbers. */
export const ALLOWED_GRPC_STATUSES: ReadonlySet<number> = new Set([3, 5, 16, 6, 9, 12, 8, 11]);

/** Signs of internals leaking into an answer: stack frames, file paths, module names. */
export const STACK_TRACE = /\n\s+at |\bat [^\s()]+ \([^)]*:\d+:\d+\)|node:internal|node_modules|\/work\/|\.[cm]?[jt]s:\d+/;

export interface RawAnswer {
  status: number;
  contentType: string;
  headers: Headers;
  body: Buffer;
  text: string;
}

export type RawBody = string | Uint8Array | ReadableStream<Uint8Array>;

/**
 * One HTTP/1.1 request with whatever headers and bytes, on its own connection (no client library
 * smoothing anything over, and no connection reuse: one request cannot affect the next through a
 * shared socket; that is tested on purpose elsewhere). A ReadableStream body goes chunked.
 */
export function rawRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: RawBody },
): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    const target = new URL(url);
    const headers: Record<string, string> = { ...init.headers };
    const fixed =
      typeof init.body === "string"
        ? Buffer.from(init.body)
        : init.body instanceof Uint8Array
          ? Buffer.from(init.body)
          : undefined;
    if (fixed) headers["content-length"] = String(fixed.length);
    const request = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      method: init.method ?? "POST",
      headers,
      agent: false,
    });
    let answered = false;
    const timer = setTimeout(() => request.destroy(new Error(`no answer within 20 s: ${init.method ?? "POST"} ${url}`)), 20_000);
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        answered = true;
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        resolve({
          status: response.statusCode ?? 0,
          contentType: responseHeaders.get("content-type") ?? "",
          headers: responseHeaders,
          body,
          text: body.toString("utf8"),
        });
        request.destroy();
      });
      response.on("error", (error) => {
        if (!answered) reject(error);
      });
    });
    // The server may answer (413, 429) and close before the whole body is sent: that is its right.
    request.on("error", (error) => {
      if (!answered && !request.writableFinished) setTimeout(() => !answered && reject(error), 1_000);
      else if (!answered) reject(error);
    });
    if (init.body === undefined || fixed) {
      request.end(fixed);
      return;
    }
    const stream = init.body;
    (async () => {
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
        if (request.destroyed) return;
        if (!request.write(chunk)) await once(request, "drain").catch(() => undefined);
      }
      request.end();
    })().catch(() => undefined);
  });
}

/** A Connect error body: `{code, message, details?}`. */
export interface ConnectErrorJson {
  code: string;
  message?: string;
  details?: unknown[];
}

/** HTTP status of each Connect code (Connect protocol spec). */
const CONNECT_HTTP_STATUS: Record<string, number> = {
  invalid_argument: 400,
  out_of_range: 400,
  failed_precondition: 400,
  unauthenticated: 401,
  not_found: 404,
  already_exists: 409,
  resource_exhausted: 429,
  unimplemented: 501,
};

/**
 * What a Connect unary answer to bad input may be: an error with an allowed code and a JSON body
 * (HTTP status as the protocol maps the code; never 5xx but `unimplemented`'s fixed 501), 415 with no body for a content type the
 * server does not speak (the protocol's answer; there is no agreed codec for an error body), or —
 * only where `successAllowed` (read-only RPCs, whose bad input may still happen to be valid) — 200.
 * Returns the error code, or "ok" / "unsupported_media_type".
 */
export function checkConnectUnaryAnswer(answer: RawAnswer, options: { successAllowed: boolean; context: string }): string {
  const where = `${options.context} → HTTP ${answer.status} ${answer.contentType} ${answer.text.slice(0, 300)}`;
  if (answer.status === 200 && options.successAllowed) return "ok";
  // Node's HTTP parser refuses an over-long request line or headers before any handler runs.
  if ((answer.status === 414 || answer.status === 431) && answer.body.length === 0) return "request_too_large";
  if (answer.status === 415) {
    if (answer.body.length > 0) parseErrorJson(answer.text, where);
    return "unsupported_media_type";
  }
  // 501 is the one 5xx the protocol fixes for a client's doing: `unimplemented` (e.g. an unknown
  // compression); 500 only for the undecodable-body exception above.
  const undecodableBody = answer.status === 500 && undecodable("internal", parseErrorJson(answer.text, where).message);
  if (answer.status < 400 || (answer.status >= 500 && answer.status !== 501 && !undecodableBody)) {
    throw new Error(`not a 4xx: ${where}`);
  }
  if (!/^application\/json\b/.test(answer.contentType)) throw new Error(`error without a JSON body: ${where}`);
  const error = parseErrorJson(answer.text, where);
  if (!undecodableBody && CONNECT_HTTP_STATUS[error.code] !== answer.status)
    throw new Error(`code ${error.code} with the wrong HTTP status: ${where}`);
  return error.code;
}

function parseErrorJson(text: string, where: string): ConnectErrorJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`error body is not JSON: ${where}`);
  }
  const error = json as ConnectErrorJson;
  if (typeof error !== "object" || error === null || typeof error.code !== "string") throw new Error(`no error code: ${where}`);
  if (!ALLOWED_CODES.has(error.code) && !undecodable(error.code, error.message)) {
    throw new Error(`code ${error.code} is not one bad input may produce: ${where}`);
  }
  if (STACK_TRACE.test(text)) throw new Error(`internals in the error: ${where}`);
  return error;
}

// ---------------------------------------------------------------------------------------------
// Connect streaming and gRPC framing

/** `flags | big-endian length | payload`: one Connect / gRPC / gRPC-Web envelope. */
export function envelope(payload: Uint8Array | string, flags = 0, declaredLength?: number): Buffer {
  const bytes = Buffer.from(payload);
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(declaredLength ?? bytes.length, 1);
  return Buffer.concat([header, bytes]);
}

export interface Envelope {
  flags: number;
  data: Buffer;
}

/** Complete envelopes at the front of `buffer`, and how many bytes they used. */
export function readEnvelopes(buffer: Buffer): { envelopes: Envelope[]; used: number } {
  const envelopes: Envelope[] = [];
  let at = 0;
  while (buffer.length - at >= 5) {
    const length = buffer.readUInt32BE(at + 1);
    if (buffer.length - at - 5 < length) break;
    envelopes.push({ flags: buffer[at] ?? 0, data: buffer.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return { envelopes, used: at };
}

export interface StreamAnswer {
  status: number;
  contentType: string;
  /** The first envelope the server sent, if any (a message, or the end-stream). */
  first: Envelope | undefined;
  /** The body when the server answered with something else than a stream. */
  text: string;
}

/**
 * Calls a server-streaming RPC with the Connect streaming protocol (own connection) and reads only
 * up to the first envelope, then hangs up (a valid request would otherwise stream forever).
 */
export function connectStreamCall(url: string, headers: Record<string, string>, body: Uint8Array): Promise<StreamAnswer> {
  return new Promise<StreamAnswer>((resolve, reject) => {
    const target = new URL(url);
    const bytes = Buffer.from(body);
    const request = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: "POST",
      headers: { ...headers, "content-length": String(bytes.length) },
      agent: false,
    });
    let done = false;
    const finish = (answer: StreamAnswer | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      request.destroy();
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    };
    const timer = setTimeout(() => finish(new Error(`no first envelope within 15 s: ${url}`)), 15_000);
    request.on("response", (response) => {
      const status = response.statusCode ?? 0;
      const contentType = String(response.headers["content-type"] ?? "");
      let buffer = Buffer.alloc(0);
      response.on("data", (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        const [first] = readEnvelopes(buffer).envelopes;
        if (first && contentType.startsWith("application/connect+")) finish({ status, contentType, first, text: "" });
      });
      response.on("end", () => {
        const enveloped = contentType.startsWith("application/connect+");
        const [first] = enveloped ? readEnvelopes(buffer).envelopes : [];
        finish({ status, contentType, first, text: enveloped ? "" : buffer.toString("utf8") });
      });
      response.on("error", (error) => finish(error));
    });
    request.on("error", (error) => {
      if (!request.writableFinished) setTimeout(() => finish(error), 1_000);
      else finish(error);
    });
    request.end(bytes);
  });
}

/**
 * What a Connect streaming answer to bad input may be: HTTP 200 whose first envelope is either the
 * end-stream with an allowed error code, or (the request was valid after all; streams are read-only)
 * a message; or 415 for a content type the server does not speak.
 */
export function checkConnectStreamAnswer(answer: StreamAnswer, context: string): string {
  const where = `${context} → HTTP ${answer.status} ${answer.contentType} ${answer.text.slice(0, 200)} ${answer.first?.data.toString("utf8").slice(0, 300) ?? ""}`;
  if (answer.status === 415) return "unsupported_media_type";
  if (answer.status !== 200) {
    if (answer.status < 400 || answer.status >= 500) throw new Error(`not a 4xx: ${where}`);
    return parseErrorJson(answer.text, where).code;
  }
  if (!answer.first) throw new Error(`the stream ended without an end-stream message: ${where}`);
  if ((answer.first.flags & 0b10) === 0) return "ok";
  const endStream = JSON.parse(answer.first.data.toString("utf8")) as { error?: ConnectErrorJson };
  if (!endStream.error) throw new Error(`the stream ended OK before any message: ${where}`);
  return parseErrorJson(JSON.stringify(endStream.error), where).code;
}

/**
 * A gRPC-Web answer (HTTP 200; status in a trailers-only header or in a trailer envelope): an allowed
 * status, or — where `successAllowed` — messages before any status.
 */
export function checkGrpcWebAnswer(answer: RawAnswer, options: { successAllowed: boolean; context: string }): string {
  const where = `${options.context} → HTTP ${answer.status} ${answer.contentType} ${answer.body.toString("latin1").slice(0, 300)}`;
  if (answer.status === 415) return "unsupported_media_type";
  if (answer.status !== 200) throw new Error(`gRPC-Web answered HTTP ${answer.status}: ${where}`);
  const { envelopes } = readEnvelopes(answer.body);
  const messages = envelopes.filter((e) => (e.flags & 0x80) === 0).length;
  const trailer = envelopes.find((e) => (e.flags & 0x80) !== 0)?.data.toString("latin1") ?? "";
  const status = answer.headers.get("grpc-status") ?? /grpc-status:\s*(\d+)/i.exec(trailer)?.[1];
  if (messages > 0 && options.successAllowed) return "ok";
  if (status === undefined || status === null) throw new Error(`no grpc-status: ${where}`);
  if (status === "0" && options.successAllowed) return "ok";
  const grpcMessage = safeDecodeUri(answer.headers.get("grpc-message") ?? /grpc-message:\s*([^\r\n]*)/i.exec(trailer)?.[1] ?? "");
  if (!allowedGrpcStatus(Number(status), grpcMessage)) {
    throw new Error(`grpc-status ${status} is not one bad input may produce: ${where}`);
  }
  if (STACK_TRACE.test(safeDecodeUri(trailer + (answer.headers.get("grpc-message") ?? "")))) {
    throw new Error(`internals in the error: ${where}`);
  }
  return `grpc-${status}`;
}

/** grpc-message is percent-encoded; a malformed one stays as it is. */
export function safeDecodeUri(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export interface GrpcAnswer {
  httpStatus: number;
  grpcStatus: number | undefined;
  grpcMessage: string;
  /** Messages received before the status. */
  messages: number;
}

/** One raw gRPC call (HTTP/2, `application/grpc`) with `body` as the framed request bytes. */
export async function grpcRawCall(
  session: http2.ClientHttp2Session,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<GrpcAnswer> {
  const request = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    "grpc-timeout": "5S",
    ...headers,
  });
  request.end(Buffer.from(body));
  let responseHeaders: http2.IncomingHttpHeaders = {};
  let trailers: http2.IncomingHttpHeaders = {};
  let buffer = Buffer.alloc(0);
  let messages = 0;
  request.on("response", (h) => {
    responseHeaders = h;
  });
  request.on("trailers", (t) => {
    trailers = t;
  });
  request.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    const { envelopes, used } = readEnvelopes(buffer);
    messages += envelopes.length;
    buffer = buffer.subarray(used);
    // A valid stream request would go on forever: one message is enough to know it was accepted.
    if (messages > 0) request.close(http2.constants.NGHTTP2_CANCEL);
  });
  // "end" (the server finished its side) is enough: a request body the server stopped reading would
  // otherwise keep the stream half-open.
  request.on("error", () => undefined);
  await Promise.race([once(request, "end"), once(request, "close"), new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (!request.closed) request.close(http2.constants.NGHTTP2_CANCEL);
  const status = trailers["grpc-status"] ?? responseHeaders["grpc-status"];
  const message = trailers["grpc-message"] ?? responseHeaders["grpc-message"];
  return {
    httpStatus: Number(responseHeaders[":status"] ?? 0),
    grpcStatus: status === undefined ? undefined : Number(status),
    grpcMessage: safeDecodeUri(String(message ?? "")),
    messages,
  };
}

// ---------------------------------------------------------------------------------------------
// Events: the state-change detector

// ---------------------------------------------------------------------------------------------
// JSON with raw literals, and its renderings

/** A JSON number literal written verbatim (huge, fractional, exponent), which JS numbers cannot hold. */
export class RawJson {
  constructor(readonly literal: string) {}
  toString() {
    return this.literal;
  }
}

export type KeyOrder = "as-is" | "reversed" | "sorted";

/** JSON text of a value that may contain RawJson literals, with a choice of indent and key order. */
export function toJsonText(value: unknown, indent = "", order: KeyOrder = "as-is", asciiOnly = false, depth = 0): string {
  const nl = indent ? "\n" : "";
  const pad = (d: number) => indent.repeat(d);
  if (value instanceof RawJson) return value.literal;
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return asciiOnly ? asciiEscaped(value) : JSON.stringify(value);
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "null";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((item) => pad(depth + 1) + toJsonText(item, indent, order, asciiOnly, depth + 1));
    return `[${nl}${items.join(`,${nl}`)}${nl}${pad(depth)}]`;
  }
  const keys = Object.keys(value as object);
  if (order === "reversed") keys.reverse();
  if (order === "sorted") keys.sort();
  if (keys.length === 0) return "{}";
  const colon = indent ? ": " : ":";
  const entries = keys.map(
    (key) =>
      `${pad(depth + 1)}${asciiOnly ? asciiEscaped(key) : JSON.stringify(key)}${colon}${toJsonText(
        (value as Record<string, unknown>)[key],
        indent,
        order,
        asciiOnly,
        depth + 1,
      )}`,
  );
  return `{${nl}${entries.join(`,${nl}`)}${nl}${pad(depth)}}`;
}

/** A JSON string literal with every character outside printable ASCII (and `/`) escaped as \uXXXX. */
function asciiEscaped(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const char = text[i] ?? "";
    if (char === '"' || char === "\\") out += `\\${char}`;
    else if (unit < 0x20 || unit > 0x7e || char === "/") out += `\\u${unit.toString(16).padStart(4, "0")}`;
    else out += char;
  }
  return `${out}"`;
}

/** How a (mutated) JSON value goes on the wire. Truncations always cut the closing brace off. */
export type Rendering =
  | { kind: "compact" }
  | { kind: "pretty"; indent: string }
  | { kind: "reordered"; order: KeyOrder }
  | { kind: "ascii-escaped" }
  | { kind: "truncated"; keep: number }
  | { kind: "trailing-garbage"; garbage: string }
  | { kind: "bom" };

export const renderingArb: fc.Arbitrary<Rendering> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Rendering>({ kind: "compact" }) },
  fc.constantFrom("  ", "\t", "    ").map((indent): Rendering => ({ kind: "pretty", indent })),
  fc.constantFrom<KeyOrder>("reversed", "sorted").map((order): Rendering => ({ kind: "reordered", order })),
  fc.constant<Rendering>({ kind: "ascii-escaped" }),
  fc.double({ min: 0, max: 1, noNaN: true }).map((keep): Rendering => ({ kind: "truncated", keep })),
  fc.constantFrom("}", ",", "x", "\u0000", "{}", " //", "]").map((garbage): Rendering => ({ kind: "trailing-garbage", garbage })),
  fc.constant<Rendering>({ kind: "bom" }),
);

export function render(value: unknown, rendering: Rendering): string {
  switch (rendering.kind) {
    case "compact":
      return toJsonText(value);
    case "pretty":
      return toJsonText(value, rendering.indent);
    case "reordered":
      return toJsonText(value, "", rendering.order);
    case "ascii-escaped":
      return toJsonText(value, "", "as-is", true);
    case "truncated": {
      const text = toJsonText(value);
      return text.slice(0, Math.floor(rendering.keep * (text.length - 1)));
    }
    case "trailing-garbage":
      return toJsonText(value) + rendering.garbage;
    case "bom":
      return `\ufeff${toJsonText(value)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations

export type JsonPath = readonly (string | number)[];
export type JsonMutation = { op: "set"; path: JsonPath; value: unknown } | { op: "delete"; path: JsonPath };

const isContainer = (value: unknown): value is Record<string | number, unknown> =>
  typeof value === "object" && value !== null && !(value instanceof RawJson);

function deepClone(value: unknown): unknown {
  if (value instanceof RawJson || !isContainer(value)) return value;
  if (Array.isArray(value)) return value.map(deepClone);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepClone(v)]));
}

/** Applies mutations in order to a copy; containers on the way are created (or replace scalars). */
export function applyMutations(base: unknown, mutations: readonly JsonMutation[]): unknown {
  let root = deepClone(base);
  for (const mutation of mutations) {
    if (mutation.path.length === 0) {
      if (mutation.op === "set") root = mutation.value;
      else root = undefined;
      continue;
    }
    if (!isContainer(root)) root = {};
    let node = root as Record<string | number, unknown>;
    for (const key of mutation.path.slice(0, -1)) {
      if (!Object.hasOwn(node, key) || !isContainer(node[key])) {
        Object.defineProperty(node, key, { value: {}, enumerable: true, writable: true, configurable: true });
      }
      node = node[key] as Record<string | number, unknown>;
    }
    const last = mutation.path[mutation.path.length - 1] as string | number;
    // defineProperty: a key such as "__proto__" becomes an own property, as JSON.parse makes it.
    if (mutation.op === "set")
      Object.defineProperty(node, last, { value: mutation.value, enumerable: true, writable: true, configurable: true });
    else delete node[last];
  }
  return root;
}

/** Paths to every value (containers included) of a JSON value. */
export function allPaths(value: unknown, prefix: JsonPath = []): JsonPath[] {
  if (!isContainer(value)) return [prefix];
  const children = Object.entries(value).flatMap(([key, child]) =>
    allPaths(child, [...prefix, Array.isArray(value) ? Number(key) : key]),
  );
  return prefix.length === 0 ? children : [prefix, ...children];
}

export const get = (value: unknown, path: JsonPath): unknown =>
  path.reduce<unknown>((node, key) => (isContainer(node) ? (node as Record<string | number, unknown>)[key] : undefined), value);

export type ByteMutation =
  | { op: "flip"; at: number; xor: number }
  | { op: "truncate"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; length: number };

export const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
);

export function applyByteMutations(input: Uint8Array, mutations: readonly ByteMutation[]): Buffer {
  let bytes = Buffer.from(input);
  for (const mutation of mutations) {
    const at = bytes.length === 0 ? 0 : mutation.at % (bytes.length + (mutation.op === "insert" ? 1 : 0));
    switch (mutation.op) {
      case "flip":
        if (bytes.length > 0) bytes[at] = (bytes[at] ?? 0) ^ mutation.xor;
        break;
      case "truncate":
        bytes = bytes.subarray(0, at);
        break;
      case "insert":
        bytes = Buffer.concat([bytes.subarray(0, at), mutation.bytes, bytes.subarray(at)]);
        break;
      case "delete":
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + mutation.length)]);
        break;
    }
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Nasty values

/** Strings that have broken parsers, validators, databases and logs before. */
export const NASTY_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u0007bell",
  "\r\n",
  "line1\nline2",
  "\t",
  "\u007f",
  "\u0085",
  "\u2028",
  "\u202eevil",
  "\ufeff",
  "\ufffd",
  "\uffff",
  "\ud800",
  "\udfff",
  "x\ud83dy",
  "😀",
  "👩‍👩‍👧‍👦",
  "🏳️‍🌈",
  "𝕍𝔸",
  "ı",
  "İ",
  "ß",
  "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǫ̗",
  "١٢٣٤٥",
  "１２３４５",
  "٢٥٠٠٠",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-0",
  "0x10",
  "1e3",
  "true",
  "[]",
  "{}",
  "' OR '1'='1",
  "'; DROP TABLE virtual_accounts; --",
  '"',
  "\\",
  "\\u0000",
  "%00",
  "%s%s%s%n",
  "{{7*7}}",
  ["$", "{jndi:ldap://x/a}"].join(""),
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "va_0123456789abcdef0123456789abcdef",
  "VA_0123456789ABCDEF0123456789ABCDEF",
  "9".repeat(64),
  "1".repeat(1_000),
];

const longString = fc
  .tuple(fc.constantFrom("a", "7", "😀", "\u0000", "ü", " ", "\n"), fc.integer({ min: 256, max: 64_000 }))
  .map(([unit, count]) => unit.repeat(count));

/** Unicode, control characters, emoji, lone surrogates, very long strings. */
export const nastyStringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary-ascii", maxLength: 40 }),
  longString,
);

/** Amount-like numbers as JSON literals: negative, zero, huge, fractional, exponent forms. */
export const nastyNumberArb: fc.Arbitrary<RawJson> = fc
  .oneof(
    fc.constantFrom(
      "-1",
      "0",
      "-0",
      "0.0",
      "1.5",
      "25000.5",
      "-25000",
      "1e3",
      "1E-7",
      "1e400",
      "-1e400",
      "9007199254740993",
      "18446744073709551616",
      "123456789012345678901234567890",
      "999999999999",
      "1000000000000",
    ),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
  )
  .map((literal) => new RawJson(literal));

/** Amounts as strings, including forms a lenient parser might take for a number. */
export const nastyAmountStringArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "0",
    "-1",
    "-25000",
    "1.5",
    "25000.00",
    "25000.50",
    "25000.",
    ".5",
    "1e3",
    " 25000",
    "25000 ",
    "+25000",
    "0x61a8",
    "0025000",
    "٢٥٠٠٠",
    "２５０００",
    "25,000",
    "25.000",
    "999999999999999999999",
    "1000000000000",
    "9223372036854775808",
    "-9223372036854775809",
    "NaN",
    "Infinity",
    "",
  ),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
);

/** Values of the wrong JSON type for whatever field they land in. */
export const wrongTypeArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { minKeys: 1, maxKeys: 3 }),
  fc.integer(),
);

export const nastyValueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyStringArb },
  nastyNumberArb,
  nastyAmountStringArb,
  wrongTypeArb,
  fc.jsonValue({ maxDepth: 2 }),
);

/** Noise over a base value: set any path (or a new one) to a nasty value, or delete it. */
export function noiseArb(paths: readonly JsonPath[]): fc.Arbitrary<JsonMutation> {
  const existing = fc.constantFrom(...(paths.length > 0 ? paths : [["x"]]));
  const invented = fc.array(
    fc.oneof(fc.constantFrom("extra", "__proto__", "constructor", "$typeName", "@type"), fc.string({ maxLength: 8 })),
    {
      minLength: 1,
      maxLength: 3,
    },
  );
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant("set" as const), path: existing, value: nastyValueArb }) },
    fc.record({ op: fc.constant("delete" as const), path: existing }),
    fc.record({ op: fc.constant("set" as const), path: invented, value: fc.jsonValue({ maxDepth: 2 }) }),
  );
}

/** Printable ASCII only: what fetch lets through as a header value. */
export const headerValueArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", "x", "null", "0", "-1", "v1=", "HMACSHA256=", "Bearer", "2020-01-01T00:00:00Z", "9".repeat(300)),
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 }),
);

// ---------------------------------------------------------------------------------------------
// Secrets

/** Every secret-looking value of `candidates` that occurs in `text`. */
export function leakedSecrets(text: string, candidates: Iterable<string>): string[] {
  return [...new Set(candidates)].filter((secret) => secret.length >= 6 && text.includes(secret));
}
