import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProviderRegistry } from "../../../src/app/provider-registry.js";
import { type CreateRequest, externalIdFor, VirtualAccounts } from "../../../src/app/virtual-accounts.js";
import { DomainError } from "../../../src/domain/errors.js";
import type { Store } from "../../../src/persistence/store.js";
import type { ProviderCreateRequest, VaProvider } from "../../../src/providers/provider.js";
import { fakeProvider, manualClock, openCapabilities, openTestStore } from "../../support/app.js";

/** VirtualAccounts.create on a real SQLite store: which provider issues the VA, and when the next is tried. */

const T0 = new Date("2026-06-01T08:00:00Z");
const signal = new AbortController().signal;

let store: Store;
let close: () => Promise<void>;
let clock: ReturnType<typeof manualClock>;

beforeEach(async () => {
  ({ store, close } = await openTestStore());
  clock = manualClock(T0);
});

afterEach(() => close());

/** A provider whose creates go as `outcome` says, counting its calls. */
function scripted(name: string, outcome: () => DomainError | "ISSUE") {
  const calls: ProviderCreateRequest[] = [];
  const adapter = fakeProvider(name, {
    createVirtualAccount: async (request) => {
      calls.push(request);
      const result = outcome();
      if (result !== "ISSUE") throw result;
      return {
        providerAccount: `${name}-acct`,
        providerReference: `${name}:${request.externalId}`,
        vaNumber: "88080000012345",
        providerVaId: undefined,
      };
    },
  });
  return { adapter, calls };
}

function service(...adapters: VaProvider[]) {
  const registry = new ProviderRegistry("unused", { "*": { BCA: adapters.map((a) => a.name) } });
  for (const adapter of adapters) registry.register(adapter, openCapabilities(adapter.name));
  return new VirtualAccounts({
    store,
    providers: registry,
    clock: clock.now,
    idempotencyLeaseMs: 30_000,
    simulationEnabled: false,
  });
}

let keys = 0;
const request = (overrides: Partial<CreateRequest> = {}): CreateRequest => ({
  idempotencyKey: `key-${++keys}`,
  merchantReference: "order-1",
  provider: "",
  bankCode: "BCA",
  usage: "SINGLE",
  amount: { type: "FIXED", amount: 25_000n },
  expiresAt: undefined,
  customer: { name: "Budi", email: "budi@example.com", phone: "0811" },
  numberSuffix: "",
  description: "",
  ...overrides,
});

const down = (kind: "UNAVAILABLE" | "DEADLINE_EXCEEDED") => new DomainError(kind, "provider down");
const refusal = () => new DomainError("INVALID_ARGUMENT", "bank refused the customer name");

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the create to fail");
    },
    (error: unknown) => error,
  );
}

describe("VirtualAccounts.create", () => {
  it("issues at the first provider that routes the bank, with an external id derived from the key", async () => {
    const first = scripted("first", () => "ISSUE");
    const second = scripted("second", () => "ISSUE");
    const { virtualAccount, replayed } = await service(first.adapter, second.adapter).create("tenant", request(), signal);
    expect(replayed).toBe(false);
    expect(virtualAccount).toMatchObject({ provider: "first", status: "ACTIVE", vaNumber: "88080000012345" });
    expect(first.calls.map((c) => c.externalId)).toEqual([externalIdFor("tenant", `key-${keys}`)]);
    expect(second.calls).toEqual([]);
    expect(await store.virtualAccounts.find("tenant", virtualAccount.id)).toEqual(virtualAccount);
  });

  it.each(["UNAVAILABLE", "DEADLINE_EXCEEDED"] as const)(
    "passes the create to the next provider when the first is %s",
    async (kind) => {
      const first = scripted("first", () => down(kind));
      const second = scripted("second", () => "ISSUE");
      const { virtualAccount } = await service(first.adapter, second.adapter).create("tenant", request(), signal);
      expect(virtualAccount.provider).toBe("second");
      expect(first.calls).toHaveLength(1);
    },
  );

  it("answers a provider's refusal as it is, without trying the next provider", async () => {
    const first = scripted("first", refusal);
    const second = scripted("second", () => "ISSUE");
    expect(await failure(service(first.adapter, second.adapter).create("tenant", request(), signal))).toMatchObject({
      kind: "INVALID_ARGUMENT",
    });
    expect(second.calls).toEqual([]);
  });

  it("fails with the last provider's error when every provider is down, and a retry may try again", async () => {
    const first = scripted("first", () => down("UNAVAILABLE"));
    const second = scripted("second", () => down("DEADLINE_EXCEEDED"));
    const gateway = service(first.adapter, second.adapter);
    const retried = request();
    expect(await failure(gateway.create("tenant", retried, signal))).toMatchObject({ kind: "DEADLINE_EXCEEDED" });
    expect(await failure(gateway.create("tenant", retried, signal))).toMatchObject({ kind: "DEADLINE_EXCEEDED" });
    expect([first.calls.length, second.calls.length]).toEqual([2, 2]);
  });

  it("skips a provider whose circuit is open until it has been closed for long enough", async () => {
    let firstDown = true;
    const first = scripted("first", () => (firstDown ? down("UNAVAILABLE") : "ISSUE"));
    const second = scripted("second", () => "ISSUE");
    const gateway = service(first.adapter, second.adapter);
    for (let i = 0; i < 5; i++) await gateway.create("tenant", request(), signal);
    expect(first.calls).toHaveLength(5);
    firstDown = false;
    expect((await gateway.create("tenant", request(), signal)).virtualAccount.provider).toBe("second");
    expect(first.calls).toHaveLength(5);
    clock.advance(30_000);
    expect((await gateway.create("tenant", request(), signal)).virtualAccount.provider).toBe("first");
  });

  it("replays the VA a key made, without calling the provider again", async () => {
    const first = scripted("first", () => "ISSUE");
    const gateway = service(first.adapter);
    const same = request();
    const made = await gateway.create("tenant", same, signal);
    expect(await gateway.create("tenant", same, signal)).toEqual({ virtualAccount: made.virtualAccount, replayed: true });
    expect(first.calls).toHaveLength(1);
  });

  it("refuses before any provider call what no routed provider can issue", async () => {
    const first = scripted("first", () => "ISSUE");
    expect(await failure(service(first.adapter).create("tenant", request({ numberSuffix: "123456789" }), signal))).toMatchObject({
      kind: "INVALID_ARGUMENT",
      facts: { field: "number_suffix" },
    });
    expect(first.calls).toEqual([]);
  });
});
