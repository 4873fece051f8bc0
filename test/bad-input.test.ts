import { randomBytes, randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { type Client, Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CancelVirtualAccountRequestSchema,
  type CreateVirtualAccountRequestSchema,
  ErrorDetailSchema,
  EventType,
  type PaymentEvent,
  type StreamPaymentEventsRequestSchema,
  VaService,
  VaUsage,
  type VirtualAccount,
  VirtualAccountStatus,
} from "../src/gen/va/v1/va_pb.js";
import { signCallback } from "../src/providers/sandbox/signature.js";
import { sandboxKitFactories } from "../src/sandbox/catalog.js";
import { PROTOCOLS, type ProtocolName, transportFor, vaClient } from "./support/clients.js";
import { createRequest, eventually, storedEvents } from "./support/fixtures.js";
import { SANDBOX_SECRETS, startTestGateway, TENANTS, type TestGateway } from "./support/gateway.js";

type VaClient = Client<typeof VaService>;
type CreateInit = MessageInitShape<typeof CreateVirtualAccountRequestSchema>;
type StreamInit = MessageInitShape<typeof StreamPaymentEventsRequestSchema>;

const HEARTBEAT_MS = 300;
const DAY_MS = 24 * 3_600_000;

let gateway: TestGateway;
let alpha: VaClient;
let beta: VaClient;

beforeAll(async () => {
  gateway = await startTestGateway({ dialect: "sqlite", config: { heartbeatMs: HEARTBEAT_MS } });
  alpha = vaClient(gateway.url, TENANTS.alpha.apiKey);
  beta = vaClient(gateway.url, TENANTS.beta.apiKey);
});
afterAll(async () => {
  await gateway?.stop();
});

/** Payments the main gateway's sandbox simulator has made so far (the provider's own record). */
function simulatedPaymentCount(): number {
  const kit = gateway.sandboxKits.get("sandbox");
  if (!kit) throw new Error("the test gateway runs no sandbox simulator");
  return kit.payments().length;
}

const unknownVaId = () => `va_${randomBytes(16).toString("hex")}`;
const uniqueReference = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Runs `call` and returns its failure as a ConnectError (fails the test when it succeeds). */
async function rpcFailure(call: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await call();
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the RPC to fail");
}

/** Reads a server stream up to its first message, so that a failure of the call surfaces. */
async function firstMessage(stream: AsyncIterable<unknown>): Promise<unknown> {
  for await (const message of stream) return message;
  return undefined;
}

/** Field paths the error names: buf.validate violations and the va.v1.ErrorDetail field. */
function namedFields(error: ConnectError): { violations: string[]; detail: string[] } {
  return {
    violations: error
      .findDetails(ViolationsSchema)
      .flatMap((v) => v.violations.map((violation) => (violation.field?.elements ?? []).map((e) => e.fieldName).join("."))),
    detail: error.findDetails(ErrorDetailSchema).map((d) => d.field),
  };
}

type Via = "violation" | "detail" | "either";

function expectInvalidArgument(error: ConnectError, field: string, via: Via): void {
  const fields = namedFields(error);
  const context = `${Code[error.code]}: ${error.rawMessage} ${JSON.stringify(fields)}`;
  expect(error.code, context).toBe(Code.InvalidArgument);
  if (via === "violation") {
    expect(fields.violations, context).toContain(field);
    expect(error.rawMessage, context).toContain(field);
  }
  if (via === "detail") expect(fields.detail, context).toContain(field);
  if (via === "either") expect([...fields.violations, ...fields.detail], context).toContain(field);
}

/** Everything the stream delivers within `ms`. */
async function eventsWithin(client: VaClient, request: StreamInit, ms: number, whileOpen: () => Promise<void>) {
  const abort = new AbortController();
  const events: PaymentEvent[] = [];
  let heartbeats = 0;
  const reading = (async () => {
    for await (const message of client.streamPaymentEvents(request, { signal: abort.signal })) {
      if (message.kind.case === "event") events.push(message.kind.value);
      if (message.kind.case === "heartbeat") heartbeats++;
    }
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) throw error;
  });
  await eventually(async () => (heartbeats > 0 ? true : undefined));
  await whileOpen();
  await new Promise((resolve) => setTimeout(resolve, ms));
  abort.abort();
  await reading;
  return events;
}

async function createdCount(client: VaClient): Promise<number> {
  const events = await storedEvents(client, {});
  return events.filter((e) => e.type === EventType.VIRTUAL_ACCOUNT_CREATED).length;
}

async function newVirtualAccount(client: VaClient, overrides: Partial<CreateInit> = {}): Promise<VirtualAccount> {
  const { virtualAccount } = await client.createVirtualAccount(createRequest(overrides));
  if (!virtualAccount) throw new Error("no virtual account in the answer");
  return virtualAccount;
}

const inSeconds = (ms: number) => timestampFromDate(new Date(Date.now() + ms));

interface CreateCase {
  name: string;
  overrides: Partial<CreateInit>;
  field: string;
  via: Via;
}

const CREATE_CASES: CreateCase[] = [
  { name: "empty idempotency_key", overrides: { idempotencyKey: "" }, field: "idempotency_key", via: "violation" },
  {
    name: "idempotency_key with a space",
    overrides: { idempotencyKey: "key with space" },
    field: "idempotency_key",
    via: "violation",
  },
  {
    name: "idempotency_key over 64 characters",
    overrides: { idempotencyKey: "k".repeat(65) },
    field: "idempotency_key",
    via: "violation",
  },
  { name: "empty merchant_reference", overrides: { merchantReference: "" }, field: "merchant_reference", via: "violation" },
  {
    name: "merchant_reference with bad characters",
    overrides: { merchantReference: "order #1 ☃" },
    field: "merchant_reference",
    via: "violation",
  },
  {
    name: "merchant_reference with a newline",
    overrides: { merchantReference: "order-1\nx" },
    field: "merchant_reference",
    via: "violation",
  },
  { name: "lower-case bank_code", overrides: { bankCode: "bca" }, field: "bank_code", via: "violation" },
  { name: "one-letter bank_code", overrides: { bankCode: "B" }, field: "bank_code", via: "violation" },
  { name: "empty bank_code", overrides: { bankCode: "" }, field: "bank_code", via: "violation" },
  { name: "bank_code the provider does not support", overrides: { bankCode: "ZZZ" }, field: "bank_code", via: "detail" },
  { name: "usage unspecified", overrides: { usage: VaUsage.UNSPECIFIED }, field: "usage", via: "violation" },
  { name: "usage not a defined value", overrides: { usage: 7 as VaUsage }, field: "usage", via: "violation" },
  { name: "amount missing", overrides: { amount: undefined }, field: "amount", via: "violation" },
  { name: "amount with no rule", overrides: { amount: {} }, field: "amount.rule", via: "violation" },
  {
    name: "fixed amount 0",
    overrides: { amount: { rule: { case: "fixed", value: { amount: 0n } } } },
    field: "amount.fixed.amount",
    via: "violation",
  },
  {
    name: "fixed amount negative",
    overrides: { amount: { rule: { case: "fixed", value: { amount: -25_000n } } } },
    field: "amount.fixed.amount",
    via: "violation",
  },
  {
    name: "fixed amount above 999999999999",
    overrides: { amount: { rule: { case: "fixed", value: { amount: 1_000_000_000_000n } } } },
    field: "amount.fixed.amount",
    via: "violation",
  },
  {
    name: "range min = max",
    overrides: { amount: { rule: { case: "range", value: { min: 50_000n, max: 50_000n } } } },
    field: "amount.range",
    via: "either",
  },
  {
    name: "range min > max",
    overrides: { amount: { rule: { case: "range", value: { min: 90_000n, max: 10_000n } } } },
    field: "amount.range",
    via: "either",
  },
  {
    name: "range min 0",
    overrides: { amount: { rule: { case: "range", value: { min: 0n, max: 10_000n } } } },
    field: "amount.range.min",
    via: "violation",
  },
  {
    name: "range max above 999999999999",
    overrides: { amount: { rule: { case: "range", value: { min: 1n, max: 1_000_000_000_000n } } } },
    field: "amount.range.max",
    via: "violation",
  },
  { name: "customer missing", overrides: { customer: undefined }, field: "customer", via: "violation" },
  { name: "customer name empty", overrides: { customer: { name: "" } }, field: "customer.name", via: "violation" },
  {
    name: "customer name with a control character",
    overrides: { customer: { name: "Budi\u0007" } },
    field: "customer.name",
    via: "violation",
  },
  {
    name: "bad email",
    overrides: { customer: { name: "Budi", email: "budi-at-example" } },
    field: "customer.email",
    via: "violation",
  },
  {
    name: "bad phone (letters)",
    overrides: { customer: { name: "Budi", phone: "0812abc4567" } },
    field: "customer.phone",
    via: "violation",
  },
  {
    name: "bad phone (too short)",
    overrides: { customer: { name: "Budi", phone: "+62812" } },
    field: "customer.phone",
    via: "violation",
  },
  { name: "expires_at in the past", overrides: { expiresAt: inSeconds(-3_600_000) }, field: "expires_at", via: "detail" },
  {
    name: "expires_at 10 seconds ahead (too soon)",
    overrides: { expiresAt: inSeconds(10_000) },
    field: "expires_at",
    via: "detail",
  },
  {
    name: "expires_at 91 days ahead (too late)",
    overrides: { expiresAt: inSeconds(91 * DAY_MS) },
    field: "expires_at",
    via: "detail",
  },
  { name: "non-digit number_suffix", overrides: { numberSuffix: "12a4" }, field: "number_suffix", via: "violation" },
  {
    name: "number_suffix too long for the bank",
    overrides: { bankCode: "BNI", numberSuffix: "123456789" },
    field: "number_suffix",
    via: "detail",
  },
  { name: "unknown provider name", overrides: { provider: "nosuchprovider" }, field: "provider", via: "detail" },
  { name: "malformed provider name", overrides: { provider: "Sandbox!" }, field: "provider", via: "violation" },
  {
    name: "description over 255 characters",
    overrides: { description: "d".repeat(256) },
    field: "description",
    via: "violation",
  },
];

describe("CreateVirtualAccount with missing or invalid fields", () => {
  let before = 0;
  let retriesCreated = 0;

  beforeAll(async () => {
    before = await createdCount(alpha);
  });

  it.each(CREATE_CASES)("$name → INVALID_ARGUMENT naming $field, and nothing is created", async ({ overrides, field, via }) => {
    const request = createRequest({ merchantReference: uniqueReference("rejected"), ...overrides });
    const error = await rpcFailure(() => alpha.createVirtualAccount(request));
    expectInvalidArgument(error, field, via);
    expect(error.rawMessage).not.toMatch(/internal|stack|\.ts:\d+/i);

    const reference = request.merchantReference ?? "";
    if (reference.length >= 1 && reference.length <= 64) {
      expect(await storedEvents(alpha, { filter: { case: "merchantReference", value: reference } })).toEqual([]);
    }
    // The key was not consumed: a valid request with it now issues a fresh VA.
    if (/^[A-Za-z0-9._:-]{1,64}$/.test(request.idempotencyKey ?? "")) {
      const retry = await alpha.createVirtualAccount(createRequest({ idempotencyKey: request.idempotencyKey }));
      retriesCreated++;
      expect(retry.replayed).toBe(false);
    }
  });

  it("in total, only the valid retries created VAs", async () => {
    expect(await createdCount(alpha)).toBe(before + retriesCreated);
  });
});

type RpcCall = (client: VaClient, virtualAccountId: string) => Promise<unknown>;

const RPCS_BY_ID: [string, RpcCall][] = [
  ["InquiryVirtualAccount", (c, id) => c.inquiryVirtualAccount({ virtualAccountId: id })],
  ["GetPaymentStatus", (c, id) => c.getPaymentStatus({ virtualAccountId: id })],
  ["CancelVirtualAccount", (c, id) => c.cancelVirtualAccount({ virtualAccountId: id, idempotencyKey: `cancel-${randomUUID()}` })],
  ["SimulatePayment", (c, id) => c.simulatePayment({ virtualAccountId: id })],
  [
    "StreamPaymentEvents(virtual_account_id)",
    (c, id) => firstMessage(c.streamPaymentEvents({ filter: { case: "virtualAccountId", value: id } })),
  ],
];

const HEX32 = "0123456789abcdef0123456789abcdef";
const MALFORMED_IDS = [
  "",
  "va_123",
  `VA_${HEX32}`,
  `va_${HEX32.toUpperCase()}`,
  `pay_${HEX32}`,
  `va_${HEX32}0`,
  `va_${HEX32.slice(1)}g`,
  ` va_${HEX32}`,
  `va_${HEX32}' OR '1'='1`,
];

describe("malformed fields on the other RPCs", () => {
  it.each(RPCS_BY_ID)(
    "%s: every malformed virtual_account_id → INVALID_ARGUMENT naming virtual_account_id",
    async (_name, call) => {
      for (const id of MALFORMED_IDS) {
        const error = await rpcFailure(() => call(alpha, id));
        expectInvalidArgument(error, "virtual_account_id", "violation");
      }
    },
  );

  it("CancelVirtualAccount: bad idempotency_key or reason → INVALID_ARGUMENT, the VA is untouched", async () => {
    const va = await newVirtualAccount(alpha);
    const cases: [MessageInitShape<typeof CancelVirtualAccountRequestSchema>, string][] = [
      [{ virtualAccountId: va.id, idempotencyKey: "" }, "idempotency_key"],
      [{ virtualAccountId: va.id, idempotencyKey: "has space" }, "idempotency_key"],
      [{ virtualAccountId: va.id, idempotencyKey: "k".repeat(65) }, "idempotency_key"],
      [{ virtualAccountId: va.id, idempotencyKey: "ok-key", reason: "r".repeat(256) }, "reason"],
    ];
    for (const [request, field] of cases) {
      expectInvalidArgument(await rpcFailure(() => alpha.cancelVirtualAccount(request)), field, "violation");
    }
    const { virtualAccount } = await alpha.inquiryVirtualAccount({ virtualAccountId: va.id });
    expect(virtualAccount?.status).toBe(VirtualAccountStatus.ACTIVE);
    // "ok-key" was not consumed by the rejected call.
    const cancelled = await alpha.cancelVirtualAccount({ virtualAccountId: va.id, idempotencyKey: "ok-key" });
    expect(cancelled.replayed).toBe(false);
  });

  it("SimulatePayment: amount 0, negative or too large → INVALID_ARGUMENT naming amount; no payment", async () => {
    const va = await newVirtualAccount(alpha);
    const paymentsBefore = simulatedPaymentCount();
    for (const amount of [0n, -1n, 1_000_000_000_000n]) {
      expectInvalidArgument(
        await rpcFailure(() => alpha.simulatePayment({ virtualAccountId: va.id, amount })),
        "amount",
        "violation",
      );
    }
    expect(simulatedPaymentCount()).toBe(paymentsBefore);
  });

  it.each([["abc"], ["-1"], ["1.5"], [" 1"], ["12345678901234567890"]])(
    "StreamPaymentEvents: after_cursor %j → INVALID_ARGUMENT naming after_cursor",
    async (afterCursor) => {
      const error = await rpcFailure(() => firstMessage(alpha.streamPaymentEvents({ afterCursor })));
      expectInvalidArgument(error, "after_cursor", "violation");
    },
  );

  it("StreamPaymentEvents: an empty or over-long merchant_reference filter → INVALID_ARGUMENT", async () => {
    for (const value of ["", "r".repeat(65)]) {
      const error = await rpcFailure(() =>
        firstMessage(alpha.streamPaymentEvents({ filter: { case: "merchantReference", value } })),
      );
      expectInvalidArgument(error, "merchant_reference", "violation");
    }
  });

  it("StreamPaymentEvents: an out-of-range but well-formed after_cursor is not an internal error", async () => {
    const first = await firstMessage(alpha.streamPaymentEvents({ afterCursor: "9999999999999999999" }));
    expect(first).toMatchObject({ kind: { case: "heartbeat" } });
  });
});

describe("strict Connect JSON: unknown fields and unreadable values are refused by field path", () => {
  /** A Connect JSON call over HTTP/1.1 with a hand-written body, as curl would send it. */
  async function postJson(method: string, body: unknown) {
    const response = await fetch(`${gateway.url}/va.v1.VaService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TENANTS.alpha.apiKey}` },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const json = (await response.json()) as {
      code?: string;
      message?: string;
      details?: { type: string; debug?: { field?: string } }[];
    };
    return { status: response.status, ...json, field: json.details?.find((d) => d.type === "va.v1.ErrorDetail")?.debug?.field };
  }
  const createBody = (overrides: Record<string, unknown>) => ({
    idempotencyKey: `strict-${randomUUID()}`,
    merchantReference: uniqueReference("strict"),
    bankCode: "BCA",
    usage: "VA_USAGE_SINGLE",
    amount: { fixed: { amount: "25000" } },
    customer: { name: "Budi Santoso" },
    ...overrides,
  });
  const INTERNALS = /va\.v1\.|bigint|out of range|cannot decode|\[[a-z_.]+\]/;

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ["an unknown top-level field (amountt)", { amountt: 1 }, "amountt", /amountt is not a field/],
    [
      "an unknown nested field",
      { amount: { fixed: { amount: "25000", currency: "IDR" } } },
      "amount.fixed.currency",
      /not a field/,
    ],
    [
      "a decimal amount string",
      { amount: { fixed: { amount: "25000.5" } } },
      "amount.fixed.amount",
      /must be a whole number from 1 to 999999999999/,
    ],
    [
      "a decimal amount number",
      { amount: { fixed: { amount: 25000.5 } } },
      "amount.fixed.amount",
      /must be a whole number from 1 to 999999999999/,
    ],
    [
      "an amount beyond int64",
      { amount: { fixed: { amount: "99999999999999999999" } } },
      "amount.fixed.amount",
      /must be a whole number from 1 to 999999999999/,
    ],
    [
      "a range bound that is not a number",
      { amount: { range: { min: "ten", max: "50000" } } },
      "amount.range.min",
      /must be a whole number from 1/,
    ],
    ["an unknown usage name", { usage: "VA_USAGE_SOMETIMES" }, "usage", /must be one of VA_USAGE_SINGLE or VA_USAGE_MULTI/],
    ["a time that is not RFC 3339", { expiresAt: "tomorrow" }, "expires_at", /RFC 3339/],
    [
      "two amount rules at once",
      { amount: { fixed: { amount: "1" }, open: {} } },
      "amount.rule",
      /only one of fixed, open or range/,
    ],
  ])("%s → invalid_argument naming the field, nothing created", async (_name, overrides, field, says) => {
    const before = await createdCount(alpha);
    const body = createBody(overrides);
    const answer = await postJson("CreateVirtualAccount", body);
    expect(answer.status, JSON.stringify(answer)).toBe(400);
    expect(answer.code).toBe("invalid_argument");
    expect(answer.field).toBe(field);
    expect(answer.message).toContain(field);
    expect(answer.message).toMatch(says);
    expect(answer.message).not.toMatch(INTERNALS);
    expect(await createdCount(alpha)).toBe(before);
    // The idempotency key was not consumed: the same body without the defect creates the VA.
    const { amountt: _, ...rest } = body as Record<string, unknown>;
    const fixed = { ...rest, amount: { fixed: { amount: "25000" } }, usage: "VA_USAGE_SINGLE", expiresAt: undefined };
    expect((await postJson("CreateVirtualAccount", fixed)).status).toBe(200);
  });

  it("a body that is not JSON → invalid_argument without internal names", async () => {
    const answer = await postJson("CreateVirtualAccount", "{not json");
    expect(answer.code).toBe("invalid_argument");
    expect(answer.message).toMatch(/not valid JSON/);
    expect(answer.message).not.toMatch(INTERNALS);
  });

  it("the other RPCs refuse unknown fields too", async () => {
    const answer = await postJson("InquiryVirtualAccount", { virtualAccountId: unknownVaId(), verbose: true });
    expect(answer.code).toBe("invalid_argument");
    expect(answer.field).toBe("verbose");
  });
});

describe.each<ProtocolName>(PROTOCOLS)("violations read as sentences over %s", (protocol) => {
  it("one sentence per problem, each with its field path and what is allowed; an empty string is one problem", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey, protocol);
    const error = await rpcFailure(() =>
      client.createVirtualAccount(createRequest({ idempotencyKey: "", usage: VaUsage.UNSPECIFIED, customer: { name: "" } })),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe(
      "idempotency_key is required. usage must be one of VA_USAGE_SINGLE or VA_USAGE_MULTI. customer.name is required.",
    );
    const [violations] = error.findDetails(ViolationsSchema);
    expect(violations?.violations.map((v) => [v.ruleId, (v.field?.elements ?? []).map((e) => e.fieldName).join(".")])).toEqual([
      ["required", "idempotency_key"],
      ["enum.not_in", "usage"],
      ["required", "customer.name"],
    ]);
  });

  it("an amount out of range names amount.fixed.amount and the allowed range", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey, protocol);
    const error = await rpcFailure(() =>
      client.createVirtualAccount(createRequest({ amount: { rule: { case: "fixed", value: { amount: 1_000_000_000_000n } } } })),
    );
    expect(error.rawMessage).toBe("amount.fixed.amount must be a whole number from 1 to 999999999999.");
    expect(namedFields(error).detail).toEqual(["amount.fixed.amount"]);
  });

  it("lengths read in words (no '1 characters', no rule ids)", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey, protocol);
    const error = await rpcFailure(() => client.createVirtualAccount(createRequest({ description: "d".repeat(256) })));
    expect(error.rawMessage).toBe("description must be at most 255 characters long.");
    const stream = await rpcFailure(() =>
      firstMessage(client.streamPaymentEvents({ filter: { case: "merchantReference", value: "" } })),
    );
    expect(stream.rawMessage).toBe("merchant_reference must be 1 to 64 characters long.");
  });
});

describe.each<ProtocolName>(PROTOCOLS)("error details over %s", (protocol) => {
  it("violations and ErrorDetail fields survive the protocol", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey, protocol);
    const phone = await rpcFailure(() => client.createVirtualAccount(createRequest({ customer: { name: "B", phone: "x" } })));
    expectInvalidArgument(phone, "customer.phone", "violation");
    const expiry = await rpcFailure(() => client.createVirtualAccount(createRequest({ expiresAt: inSeconds(100 * DAY_MS) })));
    expectInvalidArgument(expiry, "expires_at", "detail");
    const stream = await rpcFailure(() => firstMessage(client.streamPaymentEvents({ afterCursor: "x" })));
    expectInvalidArgument(stream, "after_cursor", "violation");
    const missing = await rpcFailure(() =>
      firstMessage(client.streamPaymentEvents({ filter: { case: "virtualAccountId", value: unknownVaId() } })),
    );
    expect(missing.code).toBe(Code.NotFound);
  });
});

describe("unknown ids and other tenants' VAs", () => {
  it.each(RPCS_BY_ID)("%s: a well-formed unknown id → NOT_FOUND", async (_name, call) => {
    const id = unknownVaId();
    const error = await rpcFailure(() => call(alpha, id));
    expect(error.code, error.rawMessage).toBe(Code.NotFound);
  });

  describe("tenant beta asking for tenant alpha's VA", () => {
    let va: VirtualAccount;
    beforeAll(async () => {
      va = await newVirtualAccount(alpha, { merchantReference: uniqueReference("alpha-only") });
    });

    it.each(RPCS_BY_ID)("%s → NOT_FOUND, indistinguishable from an unknown id", async (name, call) => {
      const paymentsBefore = simulatedPaymentCount();
      const error = await rpcFailure(() => call(beta, va.id));
      expect(error.code, error.rawMessage).toBe(Code.NotFound);
      const unknown = unknownVaId();
      const reference = await rpcFailure(() => call(beta, unknown));
      expect(error.rawMessage.replaceAll(va.id, "<id>")).toBe(reference.rawMessage.replaceAll(unknown, "<id>"));
      expect(error.rawMessage).not.toMatch(/alpha|tenant|permission/i);
      expect(simulatedPaymentCount(), `${name} made the simulator pay`).toBe(paymentsBefore);
    });

    it("beta's attempts changed nothing on alpha's VA", async () => {
      const status = await alpha.getPaymentStatus({ virtualAccountId: va.id });
      expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.ACTIVE);
      expect(status.payments).toEqual([]);
      const events = await storedEvents(alpha, { filter: { case: "virtualAccountId", value: va.id } });
      expect(events.map((e) => e.type)).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED]);
    });

    it("beta's streams never show alpha's events (history, merchant_reference filter, and live)", async () => {
      const ownVa = await newVirtualAccount(beta);
      const history = await storedEvents(beta, {});
      expect(history.length).toBeGreaterThan(0);
      expect(history.map((e) => e.virtualAccount?.id)).toContain(ownVa.id);
      expect(history.filter((e) => e.virtualAccount?.id === va.id)).toEqual([]);
      const alphaIds = new Set((await storedEvents(alpha, {})).map((e) => e.virtualAccount?.id));
      expect(history.filter((e) => alphaIds.has(e.virtualAccount?.id))).toEqual([]);

      expect(await storedEvents(beta, { filter: { case: "merchantReference", value: va.merchantReference } })).toEqual([]);

      let live: VirtualAccount | undefined;
      const seen = await eventsWithin(beta, { afterCursor: history.at(-1)?.cursor ?? "" }, 1_000, async () => {
        live = await newVirtualAccount(alpha, { usage: VaUsage.MULTI });
        await alpha.simulatePayment({ virtualAccountId: live.id });
        await eventually(async () =>
          (await alpha.getPaymentStatus({ virtualAccountId: live?.id ?? "" })).payments.length ? true : undefined,
        );
      });
      expect(seen).toEqual([]);
    });

    it("the same idempotency key in two tenants makes two different VAs", async () => {
      const idempotencyKey = `shared-${randomUUID()}`;
      const a = await alpha.createVirtualAccount(createRequest({ idempotencyKey }));
      const b = await beta.createVirtualAccount(createRequest({ idempotencyKey }));
      expect(b.replayed).toBe(false);
      expect(b.virtualAccount?.id).not.toBe(a.virtualAccount?.id);
    });
  });
});

function clientWithAuthorization(authorization: string | undefined, protocol: ProtocolName): VaClient {
  const setHeader: Interceptor = (next) => (request) => {
    if (authorization !== undefined) request.header.set("authorization", authorization);
    return next(request);
  };
  return createClient(VaService, transportFor(protocol, gateway.url, [setHeader]));
}

describe.each<ProtocolName>(PROTOCOLS)("authentication over %s", (protocol) => {
  const basic = Buffer.from(`${TENANTS.alpha.apiKey}:`).toString("base64");
  const cases: { name: string; header: string | undefined; secrets: string[] }[] = [
    { name: "no authorization header", header: undefined, secrets: [] },
    { name: "a wrong key", header: "Bearer wrong-key-0123456789", secrets: ["wrong-key-0123456789"] },
    {
      name: "a key differing in one character",
      header: `Bearer ${TENANTS.alpha.apiKey.slice(0, -1)}X`,
      secrets: [`${TENANTS.alpha.apiKey.slice(0, -1)}X`],
    },
    { name: "Basic with the right key", header: `Basic ${basic}`, secrets: [basic, TENANTS.alpha.apiKey] },
    { name: "Basic with the raw key", header: `Basic ${TENANTS.alpha.apiKey}`, secrets: [TENANTS.alpha.apiKey] },
    { name: "the key without a scheme", header: TENANTS.alpha.apiKey, secrets: [TENANTS.alpha.apiKey] },
    { name: "Bearer with no key", header: "Bearer", secrets: [] },
    {
      name: "Bearer with two keys",
      header: `Bearer ${TENANTS.alpha.apiKey} ${TENANTS.beta.apiKey}`,
      secrets: [TENANTS.alpha.apiKey, TENANTS.beta.apiKey],
    },
  ];

  it.each(cases)("$name → UNAUTHENTICATED on every RPC, without echoing the key", async ({ header, secrets }) => {
    const client = clientWithAuthorization(header, protocol);
    const merchantReference = uniqueReference("unauth");
    const calls: [string, () => Promise<unknown>][] = [
      ["CreateVirtualAccount", () => client.createVirtualAccount(createRequest({ merchantReference }))],
      ...RPCS_BY_ID.map(([name, call]): [string, () => Promise<unknown>] => [name, () => call(client, unknownVaId())]),
      ["StreamPaymentEvents(all)", () => firstMessage(client.streamPaymentEvents({}))],
    ];
    for (const [name, call] of calls) {
      const error = await rpcFailure(call);
      expect(error.code, `${name}: ${error.rawMessage}`).toBe(Code.Unauthenticated);
      for (const secret of secrets) {
        expect(error.message).not.toContain(secret);
        expect(JSON.stringify(error.metadata)).not.toContain(secret);
      }
    }
    expect(await storedEvents(alpha, { filter: { case: "merchantReference", value: merchantReference } })).toEqual([]);
  });
});

describe("cancel and simulate preconditions", () => {
  it("cancelling a COMPLETED (paid single-use) VA → FAILED_PRECONDITION, and it stays COMPLETED", async () => {
    const va = await newVirtualAccount(alpha);
    await alpha.simulatePayment({ virtualAccountId: va.id });
    await eventually(async () => {
      const { virtualAccount } = await alpha.inquiryVirtualAccount({ virtualAccountId: va.id });
      return virtualAccount?.status === VirtualAccountStatus.COMPLETED ? true : undefined;
    });
    const idempotencyKey = `cancel-${va.id}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await rpcFailure(() => alpha.cancelVirtualAccount({ virtualAccountId: va.id, idempotencyKey }));
      expect(error.code, error.rawMessage).toBe(Code.FailedPrecondition);
      expect(error.findDetails(ErrorDetailSchema)[0]?.field).toBe("virtual_account_id");
    }
    const events = await storedEvents(alpha, { filter: { case: "virtualAccountId", value: va.id } });
    expect(events.map((e) => e.type)).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED, EventType.PAYMENT_RECEIVED]);
    expect(events.at(-1)?.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);
  });

  it("SimulatePayment on a gateway with sandbox mode off → FAILED_PRECONDITION", async () => {
    // Sandbox mode off starts no in-process simulator, so give it the sandbox adapter as an extra
    // provider (as a staging deployment against an external sandbox would have).
    const factory = sandboxKitFactories(SANDBOX_SECRETS).get("sandbox");
    if (!factory) throw new Error("no sandbox kit in the catalog");
    const kit = await factory({ webhookUrl: "http://127.0.0.1:9/webhooks/sandbox", now: () => new Date() });
    const production = await startTestGateway({
      dialect: "sqlite",
      config: { sandbox: false },
      overrides: { extraProviders: [{ adapter: kit.provider, capabilities: kit.capabilities }] },
    });
    try {
      expect(production.sandboxKits.size).toBe(0);
      const client = vaClient(production.url, TENANTS.alpha.apiKey);
      const va = await newVirtualAccount(client);
      const error = await rpcFailure(() => client.simulatePayment({ virtualAccountId: va.id }));
      expect(error.code, error.rawMessage).toBe(Code.FailedPrecondition);
      expect(kit.payments()).toEqual([]);
      const unknown = await rpcFailure(() => client.simulatePayment({ virtualAccountId: unknownVaId() }));
      expect([Code.FailedPrecondition, Code.NotFound]).toContain(unknown.code);
    } finally {
      await production.stop();
      await kit.close();
    }
  });
});

describe("bad webhooks on /webhooks/<provider>", () => {
  let va: VirtualAccount;
  const nowSeconds = () => String(Math.floor(Date.now() / 1000));

  beforeAll(async () => {
    va = await newVirtualAccount(alpha, { merchantReference: uniqueReference("webhook-target") });
  });

  /** A callback the sandbox would send for a full payment of `va`. */
  const callback = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      event: "payment.succeeded",
      payment_id: `sbpay_${randomBytes(12).toString("hex")}`,
      virtual_account_id: va.providerReference,
      external_id: "ignored",
      merchant_id: SANDBOX_SECRETS.merchantId,
      va_number: va.vaNumber,
      bank_code: va.bankCode,
      amount: "25000",
      fee: "2500",
      paid_at: new Date().toISOString(),
      ...overrides,
    });
  const signed = (body: string | Buffer, timestamp = nowSeconds(), secret = SANDBOX_SECRETS.webhookSecret) => ({
    "content-type": "application/json",
    "x-sandbox-timestamp": timestamp,
    "x-sandbox-signature": signCallback(secret, timestamp, body),
  });

  interface WebhookCase {
    name: string;
    request: () => { path?: string; headers: Record<string, string>; body: string | Buffer | ReadableStream };
    status: number;
    error: string;
    field?: string;
  }

  const hugeBody = () => Buffer.alloc((1 << 20) + 1, 0x20);
  const CASES: WebhookCase[] = [
    {
      name: "malformed JSON",
      request: () => ({ headers: signed("{not json"), body: "{not json" }),
      status: 400,
      error: "MALFORMED_PAYLOAD",
    },
    {
      name: "truncated JSON",
      request: () => {
        const body = callback().slice(0, -3);
        return { headers: signed(body), body };
      },
      status: 400,
      error: "MALFORMED_PAYLOAD",
    },
    { name: "a JSON array", request: () => ({ headers: signed("[]"), body: "[]" }), status: 400, error: "MALFORMED_PAYLOAD" },
    {
      name: "form-encoded content",
      request: () => {
        const body = `amount=25000&va_number=${va.vaNumber}`;
        return { headers: { ...signed(body), "content-type": "application/x-www-form-urlencoded" }, body };
      },
      status: 400,
      error: "MALFORMED_PAYLOAD",
    },
    ...(
      [
        ["a different event", { event: "payment.failed" }, "event"],
        ["another merchant", { merchant_id: "M-OTHER" }, "merchant_id"],
        ["a malformed payment id", { payment_id: "pay-1" }, "payment_id"],
        ["a non-digit va_number", { va_number: "12ab" }, "va_number"],
        ["amount 0", { amount: "0" }, "amount"],
        ["a negative amount", { amount: "-25000" }, "amount"],
        ["a fractional amount", { amount: "25000.50" }, "amount"],
        ["a numeric (not string) amount", { amount: 25000 }, "amount"],
        ["a malformed fee", { fee: "abc" }, "fee"],
        ["a malformed paid_at", { paid_at: "yesterday" }, "paid_at"],
      ] as [string, Record<string, unknown>, string][]
    ).map(
      ([name, overrides, field]): WebhookCase => ({
        name: `wrong content: ${name}`,
        request: () => {
          const body = callback(overrides);
          return { headers: signed(body), body };
        },
        status: 400,
        error: "MALFORMED_PAYLOAD",
        field,
      }),
    ),
    {
      name: "a signature made with another secret",
      request: () => {
        const body = callback();
        return { headers: signed(body, nowSeconds(), "not-the-secret"), body };
      },
      status: 401,
      error: "INVALID_SIGNATURE",
    },
    {
      name: "a signature over a different body (amount tampered)",
      request: () => {
        const original = callback({ amount: "1000" });
        return { headers: signed(original), body: original.replace('"amount":"1000"', '"amount":"25000"') };
      },
      status: 401,
      error: "INVALID_SIGNATURE",
    },
    {
      name: "a malformed signature header",
      request: () => {
        const body = callback();
        return { headers: { ...signed(body), "x-sandbox-signature": "v1=not-hex" }, body };
      },
      status: 401,
      error: "INVALID_SIGNATURE",
    },
    {
      name: "a signature in another scheme",
      request: () => {
        const body = callback();
        const headers = signed(body);
        return { headers: { ...headers, "x-sandbox-signature": headers["x-sandbox-signature"].replace("v1=", "sha256=") }, body };
      },
      status: 401,
      error: "INVALID_SIGNATURE",
    },
    {
      name: "no signature header",
      request: () => {
        const body = callback();
        const { "x-sandbox-signature": _, ...headers } = signed(body);
        return { headers, body };
      },
      status: 401,
      error: "INVALID_SIGNATURE",
    },
    {
      name: "no timestamp header",
      request: () => {
        const body = callback();
        const { "x-sandbox-timestamp": _, ...headers } = signed(body);
        return { headers, body };
      },
      status: 401,
      error: "INVALID_SIGNATURE",
    },
    { name: "no headers at all", request: () => ({ headers: {}, body: callback() }), status: 401, error: "INVALID_SIGNATURE" },
    {
      name: "a non-numeric timestamp",
      request: () => {
        const body = callback();
        return { headers: signed(body, new Date().toISOString()), body };
      },
      status: 401,
      error: "INVALID_SIGNATURE",
    },
    {
      // Correctly signed but out of the window: not believed on its face, so the provider is asked,
      // and it never made this payment.
      name: "a stale timestamp (10 minutes old, correctly signed), for a payment the provider denies",
      request: () => {
        const body = callback();
        return { headers: signed(body, String(Math.floor(Date.now() / 1000) - 600)), body };
      },
      status: 404,
      error: "PAYMENT_NOT_CONFIRMED",
    },
    {
      name: "a timestamp 10 minutes in the future, for a payment the provider denies",
      request: () => {
        const body = callback();
        return { headers: signed(body, String(Math.floor(Date.now() / 1000) + 600)), body };
      },
      status: 404,
      error: "PAYMENT_NOT_CONFIRMED",
    },
    {
      name: "a body over 1 MiB (content-length)",
      request: () => {
        const body = hugeBody();
        return { headers: signed(body), body };
      },
      status: 413,
      error: "PAYLOAD_TOO_LARGE",
    },
    {
      name: "a body over 1 MiB (chunked, no content-length)",
      request: () => {
        const body = hugeBody();
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < body.length; i += 64 * 1024) controller.enqueue(body.subarray(i, i + 64 * 1024));
            controller.close();
          },
        });
        return { headers: signed(body), body: stream };
      },
      status: 413,
      error: "PAYLOAD_TOO_LARGE",
    },
    {
      name: "an unknown provider path",
      request: () => {
        const body = callback();
        return { path: "/webhooks/nosuchprovider", headers: signed(body), body };
      },
      status: 404,
      error: "UNKNOWN_PROVIDER",
    },
    {
      name: "no provider in the path",
      request: () => ({ path: "/webhooks/", headers: {}, body: "{}" }),
      status: 404,
      error: "UNKNOWN_PROVIDER",
    },
    {
      name: "the provider name in upper case",
      request: () => {
        const body = callback();
        return { path: "/webhooks/SANDBOX", headers: signed(body), body };
      },
      status: 404,
      error: "UNKNOWN_PROVIDER",
    },
  ];

  async function post(path: string, headers: Record<string, string>, body: string | Buffer | ReadableStream) {
    const response = await fetch(`${gateway.url}${path}`, { method: "POST", headers, body, duplex: "half" } as RequestInit);
    return { status: response.status, contentType: response.headers.get("content-type"), text: await response.text() };
  }

  function expectCleanJsonError(answer: { status: number; contentType: string | null; text: string }) {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.contentType).toMatch(/^application\/json/);
    expect(answer.text).not.toMatch(/\bat .+:\d+:\d+|node:internal|\/work\/|Error:|stack/i);
    return JSON.parse(answer.text) as { error?: string; field?: string };
  }

  it.each(CASES)("$name → $status $error", async ({ request, status, error, field }) => {
    const { path = "/webhooks/sandbox", headers, body } = request();
    const answer = await post(path, headers, body);
    expect(answer.status, answer.text).toBe(status);
    const json = expectCleanJsonError(answer);
    expect(json.error).toBe(error);
    if (field !== undefined) expect(json.field).toBe(field);
  });

  it("GET or PUT instead of POST → a 4xx, never a 5xx or a stack trace", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const response = await fetch(`${gateway.url}/webhooks/sandbox`, {
        method,
        ...(method === "PUT" ? { body: callback() } : {}),
      });
      const text = await response.text();
      expect(response.status, `${method}: ${text}`).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(text).not.toMatch(/\bat .+:\d+:\d+|node:internal|Error:/);
    }
  });

  // Every method under /webhooks/ reaches the provider's adapter, which answers in its own shape.
  it("GET instead of POST → the provider's 405 JSON answer", async () => {
    const response = await fetch(`${gateway.url}/webhooks/sandbox`);
    const answer = { status: response.status, contentType: response.headers.get("content-type"), text: await response.text() };
    expect(answer.status).toBe(405);
    expect(expectCleanJsonError(answer)).toEqual({ error: "METHOD_NOT_ALLOWED" });
  });

  it("a VA number nobody issued (the VA's identity with another number) → acknowledged and held for operators, not booked", async () => {
    const body = callback({ va_number: "99999999999999" });
    const answer = await post("/webhooks/sandbox", signed(body), body);
    expect(answer.status, answer.text).toBe(200);
    expect(gateway.logs.join("")).toContain('"msg":"payment callback not recorded"');
  });

  it("nothing was recorded: no payment on the VA, no PAYMENT_RECEIVED event, no handler failure", async () => {
    const status = await alpha.getPaymentStatus({ virtualAccountId: va.id });
    expect(status.payments).toEqual([]);
    expect(status.virtualAccount?.paymentCount).toBe(0);
    expect(status.virtualAccount?.paidAmount).toBe(0n);
    expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.ACTIVE);
    const events = await storedEvents(alpha, { filter: { case: "virtualAccountId", value: va.id } });
    expect(events.map((e) => e.type)).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED]);
    expect(
      gateway.logs.filter((line) => line.includes("webhook handler failed") || line.includes("could not be recorded")),
    ).toEqual([]);
  });

  it("control: the same callback, correctly signed, is recorded (so the rejections above were about the defects)", async () => {
    const body = callback();
    const answer = await post("/webhooks/sandbox", signed(body), body);
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ received: true, duplicate: false });
    const status = await alpha.getPaymentStatus({ virtualAccountId: va.id });
    expect(status.payments).toHaveLength(1);
    expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);
  });
});
