import type { JsonValue, MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AmountRuleSchema, AmountType, type VaService, VaUsage, type VirtualAccount } from "../../src/gen/va/v1/va_pb.js";
import { sandboxKitFactories } from "../../src/sandbox/catalog.js";
import type { SandboxKit } from "../../src/sandbox/kit.js";
import type { CallbackDelivery } from "../../src/sandbox/simulator-kit.js";
import { vaClient } from "../support/clients.js";
import { createRequest, eventually, storedEvents } from "../support/fixtures.js";
import {
  allPaths,
  applyByteMutations,
  applyMutations,
  type ByteMutation,
  byteMutationArb,
  fuzzParameters,
  get,
  headerValueArb,
  type JsonMutation,
  type JsonPath,
  nastyAmountStringArb,
  nastyNumberArb,
  nastyValueArb,
  type RawAnswer,
  type RawBody,
  RawJson,
  type Rendering,
  rawRequest,
  render,
  renderingArb,
  STACK_TRACE,
} from "../support/fuzz.js";
import { startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";

/**
 * Property-based fuzzing of every webhook route of every provider in the catalog. Each provider's
 * simulator first pays a VA for real; then its real delivered callback is mutated (bytes flipped,
 * cut, inserted; fields and amounts changed; JSON re-serialised; headers dropped or altered; path,
 * content type and size changed) and sent again. The answer must be the provider's own 4xx (or a
 * 2xx that records nothing, where the adapter deliberately acknowledges), never a 5xx other than
 * the recorder's "could not record, retry" 503, never a stack trace — and no payment may be recorded.
 */

const PROVIDERS = [...sandboxKitFactories().keys()];

/**
 * Providers whose callbacks are signed over the exact bytes (sandbox/adapter.ts receiveCallback,
 * winpay via snap/inbound-request.ts, doku/notification.ts): for them any accepted (2xx) request
 * must carry the original body byte for byte. Durianpay and Ayoconnect are unsigned; their adapters
 * believe a callback only once a status query to the provider confirms it.
 */
const SIGNED = new Set(["sandbox", "winpay", "doku"]);

/** The recorder's own answer when storing failed (transport/webhooks.ts): the only 5xx allowed. */
const COULD_NOT_RECORD = '{"error":"TEMPORARILY_UNAVAILABLE"}';

/** Header names a client cannot sensibly fake without breaking HTTP framing itself. */
const FRAMING_HEADERS = new Set(["content-length", "transfer-encoding", "host", "connection"]);

const CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/json; charset=utf-16",
  "application/octet-stream",
  "",
];

let gateway: TestGateway;
let alpha: Client<typeof VaService>;

beforeAll(async () => {
  gateway = await startTestGateway({ dialect: "sqlite", config: { heartbeatMs: 250 } });
  alpha = vaClient(gateway.url, TENANTS.alpha.apiKey);
});
afterAll(async () => {
  await gateway?.stop();
});

type BodyCase =
  | { kind: "original" }
  | { kind: "bytes"; mutations: ByteMutation[] }
  | { kind: "json"; mutations: JsonMutation[]; rendering: Rendering }
  | { kind: "reserialised"; rendering: Rendering }
  | { kind: "random-bytes"; bytes: Uint8Array }
  | { kind: "random-json"; value: JsonValue }
  | { kind: "form" };

interface WebhookCase {
  body: BodyCase;
  drop: string[];
  set: [string, string][];
  path: string;
}

const AMOUNT_KEY = /amount|value|fee/i;

function caseArb(real: CallbackDelivery): fc.Arbitrary<WebhookCase> {
  const parsed = JSON.parse(real.body) as unknown;
  const paths = allPaths(parsed);
  const amountPaths = paths.filter((path) => AMOUNT_KEY.test(String(path[path.length - 1])));
  const fieldMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ op: fc.constant("set" as const), path: fc.constantFrom(...paths), value: nastyValueArb }),
    },
    fc.record({ op: fc.constant("delete" as const), path: fc.constantFrom(...paths) }),
    fc.record({
      op: fc.constant("set" as const),
      path: fc.array(fc.oneof(fc.constantFrom("extra", "__proto__", "amount", "status"), fc.string({ maxLength: 6 })), {
        minLength: 1,
        maxLength: 3,
      }),
      value: fc.jsonValue({ maxDepth: 2 }),
    }),
    ...(amountPaths.length > 0
      ? [
          {
            weight: 3,
            arbitrary: fc.record({
              op: fc.constant("set" as const),
              path: fc.constantFrom(...amountPaths),
              value: fc.oneof(nastyAmountStringArb, nastyNumberArb as fc.Arbitrary<unknown>),
            }),
          },
        ]
      : []),
  );
  const headerNames = Object.keys(real.headers).map((name) => name.toLowerCase());
  return fc
    .record({
      body: fc.oneof(
        fc.constant<BodyCase>({ kind: "original" }),
        {
          weight: 3,
          arbitrary: fc.record({
            kind: fc.constant("bytes" as const),
            mutations: fc.array(byteMutationArb, { minLength: 1, maxLength: 3 }),
          }),
        },
        {
          weight: 4,
          arbitrary: fc.record({
            kind: fc.constant("json" as const),
            mutations: fc.array(fieldMutation, { minLength: 1, maxLength: 3 }),
            rendering: renderingArb,
          }),
        },
        fc.record({ kind: fc.constant("reserialised" as const), rendering: renderingArb }),
        fc.record({ kind: fc.constant("random-bytes" as const), bytes: fc.uint8Array({ maxLength: 400 }) }),
        fc.record({ kind: fc.constant("random-json" as const), value: fc.jsonValue({ maxDepth: 3 }) }),
        fc.constant<BodyCase>({ kind: "form" }),
      ),
      drop: fc.subarray(headerNames),
      set: fc.array(
        fc.oneof(
          fc.tuple(fc.constant("content-type"), fc.constantFrom(...CONTENT_TYPES)),
          fc.tuple(fc.constantFrom(...headerNames, "x-extra", "content-encoding", "authorization"), headerValueArb),
        ),
        { maxLength: 2 },
      ),
      path: fc.constantFrom("", "", "", "/", "?x=1", "/extra", "//", "/%2e%2e", "/../x", "%00", "/%F0%9F%98%80"),
    })
    .map((c) => c as WebhookCase);
}

function bodyOf(real: CallbackDelivery, body: BodyCase): Buffer {
  switch (body.kind) {
    case "original":
      return Buffer.from(real.body);
    case "bytes":
      return applyByteMutations(Buffer.from(real.body), body.mutations);
    case "json":
      return Buffer.from(render(applyMutations(JSON.parse(real.body), body.mutations), body.rendering));
    case "reserialised":
      return Buffer.from(render(JSON.parse(real.body), body.rendering));
    case "random-bytes":
      return Buffer.from(body.bytes);
    case "random-json":
      return Buffer.from(JSON.stringify(body.value) ?? "");
    case "form":
      return Buffer.from(new URLSearchParams(flatten(JSON.parse(real.body))).toString());
  }
}

function flatten(value: unknown, prefix = ""): [string, string][] {
  if (typeof value !== "object" || value === null) return [[prefix, String(value)]];
  return Object.entries(value).flatMap(([key, child]) => flatten(child, prefix ? `${prefix}.${key}` : key));
}

function headersOf(real: CallbackDelivery, c: Pick<WebhookCase, "drop" | "set">): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(real.headers))
    if (!c.drop.includes(name.toLowerCase())) headers[name.toLowerCase()] = value;
  for (const [name, value] of c.set) if (!FRAMING_HEADERS.has(name)) headers[name] = value;
  return headers;
}

/**
 * A provider-shaped answer: 2xx or 4xx (or the recorder's 503), JSON, no internals. For a signed
 * provider a 2xx means the body was the original, byte for byte.
 */
function checkWebhookAnswer(provider: string, answer: RawAnswer, sent: Buffer, original: string, context: string): void {
  const where = `${context} → HTTP ${answer.status} ${answer.contentType} ${answer.text.slice(0, 300)}`;
  const ok = answer.status >= 200 && answer.status < 300;
  const clientError = answer.status >= 400 && answer.status < 500;
  const couldNotRecord = answer.status === 503 && answer.text === COULD_NOT_RECORD;
  if (!ok && !clientError && !couldNotRecord) throw new Error(`neither 2xx nor 4xx: ${where}`);
  if (!/^application\/json\b/.test(answer.contentType)) throw new Error(`not a JSON answer: ${where}`);
  try {
    JSON.parse(answer.text);
  } catch {
    throw new Error(`answer body is not JSON: ${where}`);
  }
  if (STACK_TRACE.test(answer.text)) throw new Error(`internals in the answer: ${where}`);
  if (ok && SIGNED.has(provider) && !sent.equals(Buffer.from(original))) {
    throw new Error(`a signed provider accepted a body that is not the signed one: ${where}`);
  }
}

/** The same string with its last character moved on by one (digit, letter), so it keeps its shape. */
function nextOf(text: string): string {
  if (text === "") return "x";
  const last = text[text.length - 1] ?? "";
  const step = (from: string, to: string) =>
    String.fromCharCode(last.charCodeAt(0) === to.charCodeAt(0) ? from.charCodeAt(0) : last.charCodeAt(0) + 1);
  const next = /[0-9]/.test(last)
    ? step("0", "9")
    : /[a-z]/.test(last)
      ? step("a", "z")
      : /[A-Z]/.test(last)
        ? step("A", "Z")
        : `${last}x`;
  return text.slice(0, -1) + next;
}

/** Runs `work` over `items`, `size` at a time. */
async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

const show = (bytes: Buffer) => {
  const text = bytes.toString("utf8");
  return text.length > 400 ? `${text.slice(0, 400)}… (${bytes.length} bytes)` : text;
};

const AMOUNTS: Record<AmountType, MessageInitShape<typeof AmountRuleSchema> | undefined> = {
  [AmountType.UNSPECIFIED]: undefined,
  [AmountType.FIXED]: { rule: { case: "fixed", value: { amount: 25_000n } } },
  [AmountType.OPEN]: { rule: { case: "open", value: {} } },
  [AmountType.RANGE]: { rule: { case: "range", value: { min: 10_000n, max: 50_000n } } },
};

describe.each(PROVIDERS)("webhook route of %s", (name) => {
  let kit: SandboxKit;
  let va: VirtualAccount;
  let real: CallbackDelivery;
  let route: string;
  let before: { cursors: string[]; simulated: number };

  const paymentsOfVa = async () => (await alpha.getPaymentStatus({ virtualAccountId: va.id })).payments;
  const post = (path: string, headers: Record<string, string>, body: RawBody) =>
    rawRequest(`${gateway.url}${path}`, { headers, body });

  /**
   * Sends one case and checks the answer and (unless `acknowledged` collects it for a check after a
   * concurrent sweep) that the VA still holds exactly the one real payment.
   */
  async function send(c: WebhookCase, context: string, acknowledged?: string[]): Promise<RawAnswer> {
    const body = bodyOf(real, c.body);
    const headers = headersOf(real, c);
    const answer = await post(route + c.path, headers, body);
    const where = `${context} ${c.path} headers=${JSON.stringify(headers).slice(0, 600)} body=${show(body)}`;
    checkWebhookAnswer(name, answer, body, real.body, where);
    // Only an acknowledged callback (or a retry-later 5xx) can have recorded anything; the checks at
    // the end of each test cover the rest, once.
    if (answer.status < 300 || answer.status >= 500) {
      if (acknowledged) acknowledged.push(`${context} → HTTP ${answer.status} ${answer.text}`);
      else await expectOnlyTheRealPayment(`${where} → HTTP ${answer.status} ${answer.text}`);
    }
    return answer;
  }

  /**
   * The VA holds the one real payment — or, once a test has let a forged one through, what it held
   * when this test started (`beforeEach`), so each test reports only what it recorded itself.
   */
  async function expectOnlyTheRealPayment(where: string): Promise<void> {
    const payments = await paymentsOfVa();
    if (payments.length !== expectedPayments) {
      throw new Error(
        `a payment was recorded (${payments.map((p) => `${p.providerPaymentReference}=${p.amount}`).join(", ")}): ${where}`,
      );
    }
  }

  let expectedPayments = 1;
  beforeEach(async () => {
    if (va) expectedPayments = (await paymentsOfVa()).length;
  });

  beforeAll(async () => {
    kit = gateway.sandboxKits.get(name) as SandboxKit;
    const { providers } = await alpha.getCapabilities({ provider: name });
    const bank = providers[0]?.banks[0];
    if (!bank) throw new Error(`${name} advertises no bank`);
    const combination = bank.combinations.find((c) => c.usage === VaUsage.MULTI) ?? bank.combinations[0];
    if (!combination) throw new Error(`${name} advertises no combination`);
    const { virtualAccount } = await alpha.createVirtualAccount(
      createRequest({
        provider: name,
        bankCode: bank.bankCode,
        usage: combination.usage,
        amount: AMOUNTS[combination.amountType],
      }),
    );
    if (!virtualAccount) throw new Error("no VA");
    va = virtualAccount;
    await alpha.simulatePayment({ virtualAccountId: va.id });
    await eventually(async () => ((await paymentsOfVa()).length === 1 ? true : undefined));
    await kit.idle();
    const delivery = kit.lastDelivery();
    if (!delivery) throw new Error(`${name}: the simulator delivered no callback`);
    real = delivery;
    route = new URL(real.url).pathname;
    before = { cursors: (await storedEvents(alpha)).map((e) => e.cursor), simulated: kit.payments().length };
  });

  it("mutated real callbacks (bytes, fields, amounts, re-serialised JSON, headers, content type, path) → provider-shaped answers, nothing recorded", async () => {
    // Ayoconnect answers every refusal with HTTP 503, which the adapter's status query retries
    // twice with 0.5 s of backoff: fewer runs keep the file fast.
    await fc.assert(
      fc.asyncProperty(caseArb(real), async (c) => {
        await send(c, name);
      }),
      fuzzParameters(name === "ayoconnect" ? 40 : 80),
    );
    await expectOnlyTheRealPayment("after the fuzz run");
  }, 60_000);

  it("every string field of the real callback set to a lone surrogate, 20 000 characters, a NUL, a newline, an emoji → provider-shaped answers, nothing recorded", async () => {
    const parsed = JSON.parse(real.body) as unknown;
    const stringPaths = allPaths(parsed).filter((path) => typeof get(parsed, path) === "string");
    const values = ["\ud800", "a".repeat(20_000), "\u0000", "x\ny", "😀"];
    const cases = stringPaths.flatMap((path) => values.map((value) => ({ path, value })));
    const acknowledged: string[] = [];
    await inBatches(cases, 25, ({ path, value }) =>
      send(
        {
          body: { kind: "json", mutations: [{ op: "set", path, value }], rendering: { kind: "compact" } },
          drop: [],
          set: [],
          path: "",
        },
        `${name} ${path.join(".")}=${JSON.stringify(value.slice(0, 20))}`,
        acknowledged,
      ),
    );
    await expectOnlyTheRealPayment(`after the sweep; acknowledged: ${acknowledged.join("; ")}`);
  }, 60_000);

  it("every string field of the real callback changed by one character (another id, reference, number, name) → nothing new recorded", async () => {
    const parsed = JSON.parse(real.body) as unknown;
    const stringPaths = allPaths(parsed).filter((path) => typeof get(parsed, path) === "string");
    const acknowledged: string[] = [];
    await inBatches(stringPaths, 25, (path) => {
      const value = nextOf(String(get(parsed, path)));
      return send(
        {
          body: { kind: "json", mutations: [{ op: "set", path, value }], rendering: { kind: "compact" } },
          drop: [],
          set: [],
          path: "",
        },
        `${name} ${path.join(".")}=${JSON.stringify(value.slice(0, 40))}`,
        acknowledged,
      );
    });
    await expectOnlyTheRealPayment(`after the sweep; acknowledged: ${acknowledged.join("; ")}`);
  }, 60_000);

  it("every amount field of the real callback set to a bad amount (negative, zero, huge, fractional; as string and number) → nothing recorded", async () => {
    const parsed = JSON.parse(real.body) as unknown;
    const amountPaths: JsonPath[] = allPaths(parsed).filter((path) => AMOUNT_KEY.test(String(path[path.length - 1])));
    expect(amountPaths.length, "the callback has no amount field").toBeGreaterThan(0);
    const bad: unknown[] = [
      "-25000",
      "0",
      "25000.5",
      "1e3",
      "999999999999999999999",
      "",
      -25000,
      1.5,
      new RawJson("1e400"),
      new RawJson("25000.0000000000000001"),
      new RawJson("123456789012345678901234567890"),
      null,
    ];
    const cases = amountPaths.flatMap((path) => bad.map((value) => ({ path, value })));
    const acknowledged: string[] = [];
    await inBatches(cases, 25, ({ path, value }) =>
      send(
        {
          body: { kind: "json", mutations: [{ op: "set", path, value }], rendering: { kind: "compact" } },
          drop: [],
          set: [],
          path: "",
        },
        `${name} ${path.join(".")}=${String(value)}`,
        acknowledged,
      ),
    );
    await expectOnlyTheRealPayment(`after the sweep; acknowledged: ${acknowledged.join("; ")}`);
  }, 60_000);

  it(`re-serialised copies of the real callback (same JSON, other bytes) → ${SIGNED.has(name) ? "refused: the signature covers the exact bytes" : "nothing new recorded (confirmed by a status query)"}`, async () => {
    const renderings: Rendering[] = [
      { kind: "pretty", indent: "  " },
      { kind: "reordered", order: "sorted" },
      { kind: "reordered", order: "reversed" },
      { kind: "ascii-escaped" },
      { kind: "trailing-garbage", garbage: " " },
    ];
    for (const rendering of renderings) {
      const body = Buffer.from(render(JSON.parse(real.body), rendering));
      if (body.equals(Buffer.from(real.body))) continue;
      const answer = await send(
        { body: { kind: "reserialised", rendering }, drop: [], set: [], path: "" },
        `${name} ${rendering.kind}`,
      );
      if (SIGNED.has(name)) expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
    }
  });

  it("each header dropped → provider-shaped answer, nothing recorded; for signed providers, dropping a signed header is refused", async () => {
    for (const header of Object.keys(real.headers)) {
      const answer = await send(
        { body: { kind: "original" }, drop: [header.toLowerCase()], set: [], path: "" },
        `${name} without ${header}`,
      );
      if (SIGNED.has(name) && /signature|timestamp|partner|external|client-id|request-id/i.test(header)) {
        expect(answer.status, `${header}: ${answer.text}`).toBeGreaterThanOrEqual(400);
      }
    }
  });

  it("a body over 1 MiB, with and without content-length → 413, and the route keeps working", async () => {
    const huge = Buffer.alloc((1 << 20) + 1, 0x20);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < huge.length; i += 64 * 1024) controller.enqueue(huge.subarray(i, i + 64 * 1024));
        controller.close();
      },
    });
    for (const body of [huge, chunked]) {
      const answer = await post(route, { ...real.headers }, body);
      expect(answer.status, answer.text).toBe(413);
      expect(JSON.parse(answer.text)).toEqual({ error: "PAYLOAD_TOO_LARGE" });
    }
    await expectOnlyTheRealPayment("after the huge bodies");
  });

  it("afterwards: no new event for the tenant, no handler failure logged, the simulator paid nothing more, the gateway serves", async () => {
    expect((await storedEvents(alpha)).map((e) => e.cursor)).toEqual(before.cursors);
    expect(kit.payments()).toHaveLength(before.simulated);
    expect(
      gateway.logs.filter((line) => /webhook handler failed|could not be recorded/.test(line)).map((l) => l.slice(0, 400)),
    ).toEqual([]);
    expect((await rawRequest(`${gateway.url}/healthz`, { method: "GET" })).status).toBe(200);
  });
});

describe("paths under /webhooks/ that name no provider", () => {
  it("→ 404 UNKNOWN_PROVIDER JSON for any body", async () => {
    const segmentChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-~".split(""));
    await fc.assert(
      fc.asyncProperty(
        fc
          .oneof(
            fc.constantFrom(
              ...PROVIDERS.map((p) => p.toUpperCase()),
              ...PROVIDERS.map((p) => `${p}x`),
              "",
              "nosuchprovider",
              "%F0%9F%98%80",
              "sandbox%00",
              "%20sandbox",
            ),
            fc.string({ unit: segmentChar, maxLength: 40 }),
          )
          .filter((segment) => !PROVIDERS.includes(segment)),
        fc.constantFrom("", "/x", "/v1.0/transfer-va/payment", "?a=b"),
        fc.uint8Array({ maxLength: 200 }),
        async (segment, rest, body) => {
          const path = `/webhooks/${segment}${rest}`;
          const answer = await rawRequest(`${gateway.url}${path}`, { headers: { "content-type": "application/json" }, body });
          expect(answer.status, `${path} → ${answer.text}`).toBe(404);
          expect(JSON.parse(answer.text)).toEqual({ error: "UNKNOWN_PROVIDER" });
        },
      ),
      fuzzParameters(60),
    );
  });
});
