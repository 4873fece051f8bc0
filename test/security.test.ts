import { randomBytes, randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AmountRuleSchema,
  AmountType,
  type BankCapability,
  EventType,
  type PaymentEvent,
  type VaService,
  VaUsage,
  type VirtualAccount,
  VirtualAccountStatus,
} from "../src/gen/va/v1/va_pb.js";
import { sandboxKitFactories } from "../src/sandbox/catalog.js";
import type { SandboxKit } from "../src/sandbox/kit.js";
import type { CallbackDelivery } from "../src/sandbox/simulator-kit.js";
import { PROTOCOLS, type ProtocolName, vaClient } from "./support/clients.js";
import { createRequest, eventually, sandboxCallback, sandboxPaymentId, storedEvents } from "./support/fixtures.js";
import { fuzzParameters, leakedSecrets, type RawAnswer, rawRequest, render } from "./support/fuzz.js";
import { SANDBOX_SECRETS, startTestGateway, TENANTS, type TestGateway } from "./support/gateway.js";

/**
 * Security properties: signed callbacks that are forged or re-serialised are refused; replayed or
 * stale ones record nothing new (outside the accepted clock skew, documented in the README's
 * "Security" section, a callback is confirmed with the provider before it is believed); an API key
 * one character off is UNAUTHENTICATED; tenants cannot see or touch each other's VAs on any RPC or
 * the stream; unsigned callbacks are believed only as far as the provider confirms them; and no
 * secret ever reaches a log line or an error.
 */

const PROVIDERS = [...sandboxKitFactories().keys()];

/** Accepted distance between a signed callback's timestamp and our clock, either way (README "Security"). */
const CLOCK_SKEW_SECONDS: Record<string, number> = {
  sandbox: 300, // sandbox/adapter.ts DEFAULT_WEBHOOK_TOLERANCE_SECONDS
  winpay: 300, // snap/inbound-request.ts DEFAULT_MAX_CLOCK_SKEW_MS (SNAP: 5 minutes)
  doku: 300, // doku/signature.ts MAX_CLOCK_SKEW_MS
};
const SIGNED = Object.keys(CLOCK_SKEW_SECONDS).filter((name) => PROVIDERS.includes(name));

/** How each signed provider's adapter words a refusal (its own error shape). */
const REFUSAL: Record<string, { badSignature: RegExp }> = {
  sandbox: { badSignature: /^401 \{"error":"INVALID_SIGNATURE"\}$/ },
  winpay: { badSignature: /^401 \{"responseCode":"4012500","responseMessage":"Unauthorized\. Invalid Signature"\}$/ },
  doku: { badSignature: /^400 .*"invalid_signature"/ },
};

let gateway: TestGateway;
let alpha: Client<typeof VaService>;

/** Every error text and webhook answer this file received, and every signature it saw sent: scanned last. */
const received: string[] = [];
const presentedSecrets = new Set<string>();

beforeAll(async () => {
  gateway = await startTestGateway({ dialect: "sqlite", controlledClock: true, config: { heartbeatMs: 250 } });
  alpha = vaClient(gateway.url, TENANTS.alpha.apiKey);
});
afterAll(async () => {
  await gateway?.stop();
});

function describeError(error: ConnectError): string {
  const details = error.details.map((d) =>
    "desc" in d
      ? JSON.stringify(d.value, (_k, v) => (typeof v === "bigint" ? v.toString() : v))
      : `${d.type} ${Buffer.from(d.value).toString("latin1")} ${JSON.stringify(d.debug ?? null)}`,
  );
  return [error.message, error.rawMessage, ...details, JSON.stringify([...error.metadata])].join("\n");
}

/** The ConnectError a call fails with (recorded for the secrets scan); fails the test if it succeeds. */
async function failure(call: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await call();
  } catch (error) {
    const connectError = ConnectError.from(error);
    received.push(describeError(connectError));
    return connectError;
  }
  throw new Error("expected the call to fail");
}

async function firstMessage(stream: AsyncIterable<unknown>): Promise<unknown> {
  for await (const message of stream) return message;
  return undefined;
}

/** Posts a callback; the answer is recorded for the secrets scan, and its signature headers too. */
async function deliver(delivery: CallbackDelivery): Promise<RawAnswer & { line: string }> {
  for (const [name, value] of Object.entries(delivery.headers)) {
    if (/signature/i.test(name)) presentedSecrets.add(value);
  }
  const answer = await rawRequest(delivery.url, { headers: delivery.headers, body: delivery.body });
  received.push(`${answer.status} ${answer.text} ${JSON.stringify([...answer.headers])}`);
  return { ...answer, line: `${answer.status} ${answer.text}` };
}

const AMOUNTS: Record<AmountType, MessageInitShape<typeof AmountRuleSchema> | undefined> = {
  [AmountType.UNSPECIFIED]: undefined,
  [AmountType.FIXED]: { rule: { case: "fixed", value: { amount: 25_000n } } },
  [AmountType.OPEN]: { rule: { case: "open", value: {} } },
  [AmountType.RANGE]: { rule: { case: "range", value: { min: 10_000n, max: 50_000n } } },
};

/** A VA at `provider` (multi-use if it offers one), paid once by its simulator; with the real callback. */
async function paidVirtualAccount(
  provider: string,
): Promise<{ va: VirtualAccount; kit: SandboxKit; real: CallbackDelivery; bank: BankCapability }> {
  const kit = gateway.sandboxKits.get(provider) as SandboxKit;
  const { providers } = await alpha.getCapabilities({ provider });
  const bank = providers[0]?.banks[0];
  if (!bank) throw new Error(`${provider} advertises no bank`);
  const combination = bank.combinations.find((c) => c.usage === VaUsage.MULTI) ?? bank.combinations[0];
  if (!combination) throw new Error(`${provider} advertises no combination`);
  const { virtualAccount } = await alpha.createVirtualAccount(
    createRequest({ provider, bankCode: bank.bankCode, usage: combination.usage, amount: AMOUNTS[combination.amountType] }),
  );
  if (!virtualAccount) throw new Error("no VA");
  await alpha.simulatePayment({ virtualAccountId: virtualAccount.id });
  await eventually(async () =>
    (await alpha.getPaymentStatus({ virtualAccountId: virtualAccount.id })).payments.length === 1 ? true : undefined,
  );
  await kit.idle();
  const real = kit.lastDelivery();
  if (!real) throw new Error(`${provider}: no callback delivered`);
  for (const [name, value] of Object.entries(real.headers)) if (/signature/i.test(name)) presentedSecrets.add(value);
  return { va: virtualAccount, kit, real, bank };
}

const paymentsOf = async (va: VirtualAccount) => (await alpha.getPaymentStatus({ virtualAccountId: va.id })).payments;

describe.each(SIGNED)("signed callbacks of %s", (provider) => {
  let va: VirtualAccount;
  let kit: SandboxKit;
  let real: CallbackDelivery;
  const skewMs = (CLOCK_SKEW_SECONDS[provider] ?? 0) * 1000;
  const refusal = REFUSAL[provider] as (typeof REFUSAL)[string];

  /** Runs `work` with the gateway's clock (and its simulators') moved by `ms`, then moves it back. */
  async function withClockMoved<T>(ms: number, work: () => Promise<T>): Promise<T> {
    gateway.advanceClock(ms);
    try {
      return await work();
    } finally {
      gateway.advanceClock(-ms);
    }
  }

  beforeAll(async () => {
    ({ va, kit, real } = await paidVirtualAccount(provider));
  });

  it("forged (signed with another key) → refused as a bad signature, nothing recorded", async () => {
    const forged = kit.forgeCallback(
      { providerAccount: "", providerReference: va.providerReference, vaNumber: va.vaNumber, bankCode: va.bankCode },
      25_000n,
    );
    // Headers the kit's forgery leaves out (winpay's lacks CHANNEL-ID) are copied from the real
    // callback, so that it is the signature, not a missing header, that gets it refused.
    const present = new Set(Object.keys(forged.headers).map((name) => name.toLowerCase()));
    const missing = Object.entries(real.headers).filter(([name]) => !present.has(name.toLowerCase()));
    expect((await deliver({ ...forged, headers: { ...Object.fromEntries(missing), ...forged.headers } })).line).toMatch(
      refusal.badSignature,
    );
    if (provider === "sandbox") {
      // A webhook secret one character off.
      const secret = `${SANDBOX_SECRETS.webhookSecret.slice(0, -1)}${SANDBOX_SECRETS.webhookSecret.endsWith("x") ? "y" : "x"}`;
      const callback = sandboxCallback({ ...SANDBOX_SECRETS, webhookSecret: secret }, gateway.now(), va, {
        id: sandboxPaymentId(),
        amount: 25_000n,
      });
      expect((await deliver({ url: real.url, ...callback })).line).toMatch(refusal.badSignature);
    }
    expect(await paymentsOf(va)).toHaveLength(1);
  });

  it("re-serialised (the same JSON value, other bytes: pretty, sorted, reversed, escaped) → refused as a bad signature", async () => {
    const value = JSON.parse(real.body) as unknown;
    const copies = [
      render(value, { kind: "pretty", indent: "  " }),
      render(value, { kind: "reordered", order: "sorted" }),
      render(value, { kind: "reordered", order: "reversed" }),
      render(value, { kind: "ascii-escaped" }),
      `${real.body}\n`,
    ].filter((body) => body !== real.body);
    expect(copies.length).toBeGreaterThanOrEqual(3);
    for (const body of copies) expect((await deliver({ ...real, body })).line, body).toMatch(refusal.badSignature);
    expect(await paymentsOf(va)).toHaveLength(1);
  });

  it("replayed at once with the same request id and body → acknowledged as the first time, nothing new recorded", async () => {
    const answer = await deliver(real);
    expect(answer.status, answer.line).toBeGreaterThanOrEqual(200);
    expect(answer.status, answer.line).toBeLessThan(300);
    expect(await paymentsOf(va)).toHaveLength(1);
  });

  // A provider's retry may carry its first attempt's timestamp (DOKU retries after 30 min, 6 h, 12 h):
  // outside the accepted skew a correctly signed callback is not believed on its face but confirmed
  // with the provider, which here knows the payment is already recorded. Never refused, never doubled.
  it("replayed long after, or dated in the future, beyond the accepted clock skew → confirmed, acknowledged, nothing new recorded", async () => {
    for (const later of [skewMs + 5_000, 3_600_000, 86_400_000, -(skewMs + 30_000)]) {
      const answer = await withClockMoved(later, () => deliver(real));
      expect(answer.status, `${later} ms later: ${answer.line}`).toBeGreaterThanOrEqual(200);
      expect(answer.status, `${later} ms later: ${answer.line}`).toBeLessThan(300);
    }
    expect(await paymentsOf(va)).toHaveLength(1);
  });

  it("within the accepted clock skew the timestamp check passes (what remains is the duplicate rule)", async () => {
    const answer = await withClockMoved(skewMs - 20_000, () => deliver(real));
    expect(answer.status, answer.line).toBeGreaterThanOrEqual(200);
    expect(answer.status, answer.line).toBeLessThan(300);
    expect(await paymentsOf(va)).toHaveLength(1);
  });
});

describe("sandbox: the accepted clock skew to the second", () => {
  let va: VirtualAccount;
  beforeAll(async () => {
    const { virtualAccount } = await alpha.createVirtualAccount(
      createRequest({ usage: VaUsage.MULTI, amount: { rule: { case: "open", value: {} } } }),
    );
    va = virtualAccount as VirtualAccount;
  });

  const sendSigned = (offsetSeconds: number) => {
    const callback = sandboxCallback(SANDBOX_SECRETS, new Date(gateway.now().getTime() + offsetSeconds * 1000), va, {
      id: sandboxPaymentId(),
      amount: 10_000n,
    });
    return deliver({ url: `${gateway.url}/webhooks/sandbox`, ...callback });
  };

  it.each([-295, 295])("a callback signed %i s from our clock is accepted", async (offset) => {
    expect((await sendSigned(offset)).line).toBe('200 {"received":true,"duplicate":false}');
  });
  // Outside the window the callback is confirmed with the provider, which never made these payments.
  it.each([-305, 305, -86_400, 86_400])(
    "a callback signed %i s from our clock is not believed: the provider denies it",
    async (offset) => {
      expect((await sendSigned(offset)).line).toBe('404 {"error":"PAYMENT_NOT_CONFIRMED"}');
    },
  );
  it("only the two in-window callbacks were recorded", async () => {
    expect(await paymentsOf(va)).toHaveLength(2);
  });
});

describe("unsigned callbacks are believed only as far as the provider confirms them", () => {
  // Anyone who has seen one callback of a paid VA can send more: what they claim is only believed as
  // far as the provider's API confirms it (Ayoconnect: the VA paid, its one payment keyed by the VA;
  // Durianpay: that payment id listed on the VA).
  it.skipIf(!PROVIDERS.includes("ayoconnect"))(
    "ayoconnect: a callback for an already-paid VA naming a payment Ayoconnect never made → nothing recorded",
    async () => {
      const { va, real } = await paidVirtualAccount("ayoconnect");
      for (const [trxRefID, amount] of [
        ["987654321", "1.00"],
        [`forged-${randomUUID()}`, "999999999.00"],
      ]) {
        const forged = JSON.parse(real.body) as { virtualAccountData: { paymentDetails: { trxRefID: string; amount: string } } };
        forged.virtualAccountData.paymentDetails = { trxRefID: trxRefID as string, amount: amount as string };
        const answer = await deliver({ ...real, body: JSON.stringify(forged) });
        const payments = await paymentsOf(va);
        expect(
          payments.map((p) => `${p.providerPaymentReference}=${p.amount}`),
          `HTTP ${answer.line}: a payment the provider never made was recorded`,
        ).toHaveLength(1);
        // A single-payment VA's one payment is keyed by the VA, so the claim is the payment we hold:
        // acknowledged as its duplicate (or refused), never recorded again.
        expect(answer.status, answer.line).toBeLessThan(500);
      }
    },
  );

  it.skipIf(!PROVIDERS.includes("durianpay"))(
    "durianpay: a callback for an already-paid VA naming a payment Durianpay does not list → refused, nothing recorded",
    async () => {
      const { va, real } = await paidVirtualAccount("durianpay");
      const forged = JSON.parse(real.body) as { id: string; amount_str: string };
      forged.id = `pay_${randomBytes(7).toString("hex")}`;
      forged.amount_str = "1.00";
      const answer = await deliver({ ...real, body: JSON.stringify(forged) });
      // Durianpay's API denies the payment: refuted, answered 404 (which Durianpay retries, harmlessly).
      expect(answer.status, answer.line).toBe(404);
      expect(await paymentsOf(va)).toHaveLength(1);
    },
  );
});

// ---------------------------------------------------------------------------------------------

const unknownVaId = () => `va_${randomBytes(16).toString("hex")}`;

type Call = (client: Client<typeof VaService>, id: string) => Promise<unknown>;
const EVERY_RPC: [string, Call][] = [
  ["CreateVirtualAccount", (c) => c.createVirtualAccount(createRequest())],
  ["InquiryVirtualAccount", (c, id) => c.inquiryVirtualAccount({ virtualAccountId: id })],
  ["GetPaymentStatus", (c, id) => c.getPaymentStatus({ virtualAccountId: id })],
  ["CancelVirtualAccount", (c, id) => c.cancelVirtualAccount({ virtualAccountId: id, idempotencyKey: `cancel-${randomUUID()}` })],
  [
    "UpdateVirtualAccount",
    (c, id) => c.updateVirtualAccount({ virtualAccountId: id, amount: { rule: { case: "fixed", value: { amount: 30_000n } } } }),
  ],
  ["SimulatePayment", (c, id) => c.simulatePayment({ virtualAccountId: id })],
  ["StreamPaymentEvents", (c, id) => firstMessage(c.streamPaymentEvents({ filter: { case: "virtualAccountId", value: id } }))],
  ["GetCapabilities", (c) => c.getCapabilities({})],
];

describe("API keys", () => {
  const KEYS: string[] = [TENANTS.alpha.apiKey, TENANTS.beta.apiKey];
  const PRINTABLE = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));

  async function expectUnauthenticated(key: string, rpc: [string, Call], protocol: ProtocolName = "connect") {
    presentedSecrets.add(key);
    const error = await failure(() => rpc[1](vaClient(gateway.url, key, protocol), unknownVaId()));
    expect(error.code, `${rpc[0]} over ${protocol} with ${JSON.stringify(key)}: ${error.rawMessage}`).toBe(Code.Unauthenticated);
    expect(describeError(error)).not.toContain(key);
  }

  it("the exact keys work (control)", async () => {
    for (const key of KEYS) expect((await vaClient(gateway.url, key).getCapabilities({})).providers.length).toBeGreaterThan(0);
  });

  it.each(KEYS.map((key) => [key]))("%s with any one character replaced → UNAUTHENTICATED, on every RPC in turn", async (key) => {
    for (let i = 0; i < key.length; i++) {
      const char = key[i] ?? "";
      const replacement = PRINTABLE[(PRINTABLE.indexOf(char) + 1 + (i % 7)) % PRINTABLE.length] ?? "x";
      await expectUnauthenticated(
        key.slice(0, i) + replacement + key.slice(i + 1),
        EVERY_RPC[i % EVERY_RPC.length] as [string, Call],
      );
    }
  });

  it("random one-character edits (replace, insert, delete, case flip) of either key, any RPC, any protocol → UNAUTHENTICATED", async () => {
    const edit = fc.record({
      key: fc.constantFrom(...KEYS),
      op: fc.constantFrom("replace", "insert", "delete", "case"),
      at: fc.nat(),
      char: fc.constantFrom(...PRINTABLE),
    });
    await fc.assert(
      fc.asyncProperty(
        edit,
        fc.constantFrom(...EVERY_RPC),
        fc.constantFrom(...PROTOCOLS),
        async ({ key, op, at, char }, rpc, protocol) => {
          const i = at % key.length;
          const edited =
            op === "replace"
              ? key.slice(0, i) + char + key.slice(i + 1)
              : op === "insert"
                ? key.slice(0, i) + char + key.slice(i)
                : op === "delete"
                  ? key.slice(0, i) + key.slice(i + 1)
                  : key.slice(0, i) +
                    ((key[i] ?? "").toUpperCase() === key[i] ? (key[i] ?? "").toLowerCase() : (key[i] ?? "").toUpperCase()) +
                    key.slice(i + 1);
          fc.pre(!KEYS.includes(edited) && edited.length > 0);
          await expectUnauthenticated(edited, rpc, protocol);
        },
      ),
      fuzzParameters(60),
    );
  }, 60_000);
});

describe.each<ProtocolName>(PROTOCOLS)("tenant isolation over %s", (protocol) => {
  let va: VirtualAccount;
  let alphaClient: Client<typeof VaService>;
  let betaClient: Client<typeof VaService>;
  let simulatedBefore = 0;

  const simulated = () => gateway.sandboxKits.get("sandbox")?.payments().length ?? 0;

  beforeAll(async () => {
    alphaClient = vaClient(gateway.url, TENANTS.alpha.apiKey, protocol);
    betaClient = vaClient(gateway.url, TENANTS.beta.apiKey, protocol);
    const { virtualAccount } = await alphaClient.createVirtualAccount(
      createRequest({ merchantReference: `alpha-only-${randomUUID().slice(0, 8)}`, usage: VaUsage.MULTI }),
    );
    va = virtualAccount as VirtualAccount;
    simulatedBefore = simulated();
  });

  it.each(EVERY_RPC.filter(([name]) => !["CreateVirtualAccount", "GetCapabilities"].includes(name)))(
    "beta: %s on alpha's VA → NOT_FOUND, worded exactly like an unknown id",
    async (_name, call) => {
      const error = await failure(() => call(betaClient, va.id));
      expect(error.code, error.rawMessage).toBe(Code.NotFound);
      const unknown = unknownVaId();
      const reference = await failure(() => call(betaClient, unknown));
      expect(error.rawMessage.replaceAll(va.id, "<id>")).toBe(reference.rawMessage.replaceAll(unknown, "<id>"));
      expect(describeError(error)).not.toMatch(/alpha|tenant/i);
    },
  );

  it("beta: the stream filtered by alpha's merchant reference, and the whole stream, hold none of alpha's events", async () => {
    expect(await storedEvents(betaClient, { filter: { case: "merchantReference", value: va.merchantReference } })).toEqual([]);
    const all = await storedEvents(betaClient, {});
    const alphaIds = new Set((await storedEvents(alphaClient, {})).map((e) => e.virtualAccount?.id));
    expect(all.filter((e) => alphaIds.has(e.virtualAccount?.id))).toEqual([]);
  });

  it("beta: live, while alpha creates and is paid, beta's stream shows nothing of it", async () => {
    const history = await storedEvents(betaClient, {});
    const abort = new AbortController();
    const seen: PaymentEvent[] = [];
    const reading = (async () => {
      for await (const message of betaClient.streamPaymentEvents(
        { afterCursor: history.at(-1)?.cursor ?? "" },
        { signal: abort.signal },
      )) {
        if (message.kind.case === "event") seen.push(message.kind.value);
      }
    })().catch(() => undefined);
    const { virtualAccount } = await alphaClient.createVirtualAccount(createRequest({ usage: VaUsage.MULTI }));
    await alphaClient.simulatePayment({ virtualAccountId: virtualAccount?.id ?? "" });
    await eventually(async () =>
      (await alphaClient.getPaymentStatus({ virtualAccountId: virtualAccount?.id ?? "" })).payments.length ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    abort.abort();
    await reading;
    expect(seen).toEqual([]);
    simulatedBefore = simulated();
  });

  it("beta: the same idempotency key and request as alpha's create → a separate VA of beta's, not alpha's replayed", async () => {
    const request = createRequest();
    const first = await alphaClient.createVirtualAccount(request);
    const second = await betaClient.createVirtualAccount(request);
    expect(second.replayed).toBe(false);
    expect(second.virtualAccount?.id).not.toBe(first.virtualAccount?.id);
    expect(second.virtualAccount?.vaNumber).not.toBe(first.virtualAccount?.vaNumber);
  });

  it("alpha's VA is untouched: ACTIVE, no payment, only its CREATED event; the simulator was never asked to pay it", async () => {
    const status = await alphaClient.getPaymentStatus({ virtualAccountId: va.id });
    expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.ACTIVE);
    expect(status.payments).toEqual([]);
    const events = await storedEvents(alphaClient, { filter: { case: "virtualAccountId", value: va.id } });
    expect(events.map((e) => e.type)).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED]);
    expect(simulated()).toBe(simulatedBefore);
  });
});

// Last: everything above has left its traces in the logs and in `received`.
describe("secrets never reach logs or errors", () => {
  it("a full flow on every provider, then: no API key, sandbox secret or sent signature in any log line or error received", async () => {
    for (const provider of PROVIDERS) {
      const { va, bank } = await paidVirtualAccount(provider);
      // Cancelled where the bank and the VA's state allow it; refused (and the refusal scanned) otherwise.
      await alpha.cancelVirtualAccount({ virtualAccountId: va.id, idempotencyKey: `cancel-${va.id}` }).catch((error: unknown) => {
        received.push(describeError(ConnectError.from(error)));
        expect(bank.canCancel && va.usage === VaUsage.MULTI, String(error)).toBe(false);
      });
      await failure(() => alpha.createVirtualAccount(createRequest({ provider, bankCode: "NOSUCHBANK" })));
      await failure(() => alpha.simulatePayment({ virtualAccountId: unknownVaId() }));
    }
    await failure(() => vaClient(gateway.url, undefined).getCapabilities({}));
    await failure(() => vaClient(gateway.url, `${TENANTS.alpha.apiKey} ${TENANTS.beta.apiKey}`).getCapabilities({}));

    const secrets = [
      TENANTS.alpha.apiKey,
      TENANTS.beta.apiKey,
      SANDBOX_SECRETS.merchantId,
      SANDBOX_SECRETS.apiKey,
      SANDBOX_SECRETS.webhookSecret,
      Buffer.from(`${SANDBOX_SECRETS.apiKey}:`).toString("base64"),
      ...presentedSecrets,
    ];
    expect(presentedSecrets.size).toBeGreaterThanOrEqual(SIGNED.length);
    const logs = gateway.logs.join("");
    expect(gateway.logs.length).toBeGreaterThan(50);
    expect(leakedSecrets(logs, secrets), "in the logs").toEqual([]);
    expect(leakedSecrets(received.join("\n"), secrets), "in errors and webhook answers received").toEqual([]);
    // Secret-shaped strings of the providers whose credentials the test cannot see.
    for (const shape of [
      /Bearer\s+[!-~]{8,}/,
      /Basic\s+[A-Za-z0-9+/=]{8,}/,
      /dp_test_[0-9a-f]{8,}/,
      /SK-[0-9a-f]{16,}/,
      /BEGIN [A-Z ]*PRIVATE KEY/,
      /v1=[0-9a-f]{64}/,
      /HMACSHA256=[A-Za-z0-9+/=]{20,}/,
    ]) {
      expect(logs, `log matches ${shape}`).not.toMatch(shape);
      expect(received.join("\n"), `an error matches ${shape}`).not.toMatch(shape);
    }
    // A control that the scan would see a secret: signatures were sent and API keys presented.
    expect(leakedSecrets(`x${SANDBOX_SECRETS.webhookSecret}x`, secrets)).toEqual([SANDBOX_SECRETS.webhookSecret]);
  }, 60_000);
});
