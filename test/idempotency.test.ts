import { ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { externalIdFor } from "../src/app/virtual-accounts.js";
import { ErrorDetailSchema } from "../src/gen/va/v1/va_pb.js";
import type { ProviderCreateRequest, VaProvider } from "../src/providers/provider.js";
import { sandboxCapabilities } from "../src/providers/sandbox/capabilities.js";
import { vaClient } from "./support/clients.js";
import { createRequest, eventually, rejection, takeEvents } from "./support/fixtures.js";
import { startTestGateway, TENANTS, type TestGateway } from "./support/gateway.js";

/** A provider whose creates wait until the test opens the gate, and that records external ids. */
function gatedProvider() {
  let open: () => void = () => undefined;
  let gate = Promise.resolve();
  const rearm = () => {
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
  };
  rearm();
  const externalIds: string[] = [];
  const provider: VaProvider = {
    name: "gated",
    async createVirtualAccount(request: ProviderCreateRequest) {
      externalIds.push(request.externalId);
      await gate;
      return {
        providerAccount: "gated",
        providerReference: `ref-${request.externalId}`,
        vaNumber: `8${externalIds.length}`.padEnd(16, "0"),
        providerVaId: undefined,
      };
    },
    async cancelVirtualAccount() {},
    async receiveWebhook() {
      throw new Error("not used");
    },
  };
  return {
    provider,
    externalIds,
    release: () => open(),
    rearm,
  };
}

describe("idempotency keys", () => {
  let gateway: TestGateway;
  const gated = gatedProvider();

  beforeAll(async () => {
    gateway = await startTestGateway({
      dialect: "sqlite",
      controlledClock: true,
      config: { idempotencyLeaseMs: 60_000, idempotencyRetentionMs: 3_600_000, sweepIntervalMs: 50 },
      overrides: { extraProviders: [{ adapter: gated.provider, capabilities: { ...sandboxCapabilities, provider: "gated" } }] },
    });
  });
  afterAll(async () => {
    gated.release();
    await gateway?.stop();
  });

  it("a second call with the key while the first is in flight is ABORTED; afterwards it replays", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const request = createRequest({ provider: "gated" });
    const first = client.createVirtualAccount(request);
    await eventually(async () => (gated.externalIds.length === 1 ? true : undefined));

    const inFlight = await rejection(client.createVirtualAccount(request));
    expect(inFlight.code).toBe(10);
    expect(inFlight.findDetails(ErrorDetailSchema)[0]?.field).toBe("idempotency_key");

    gated.release();
    const created = await first;
    expect(created.replayed).toBe(false);
    const replay = await client.createVirtualAccount(request);
    expect(replay).toMatchObject({ replayed: true, virtualAccount: { id: created.virtualAccount?.id } });
    expect(gated.externalIds).toHaveLength(1);
  });

  it("the provider-side id is derived from tenant + key, so a retry can only ever find the same VA", async () => {
    const request = createRequest({ provider: "gated" });
    await vaClient(gateway.url, TENANTS.alpha.apiKey).createVirtualAccount(request);
    await vaClient(gateway.url, TENANTS.beta.apiKey).createVirtualAccount(request);
    const [forAlpha, forBeta] = gated.externalIds.slice(-2);
    expect(forAlpha).toBe(externalIdFor(TENANTS.alpha.tenantId, request.idempotencyKey ?? ""));
    expect(forBeta).toBe(externalIdFor(TENANTS.beta.tenantId, request.idempotencyKey ?? ""));
    expect(forAlpha).not.toBe(forBeta);
    expect(forAlpha).toMatch(/^[0-9a-f]{32}$/);
  });

  it("a request that outlives its lease loses the key to the retry: exactly one VA is kept", async () => {
    gated.rearm();
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const request = createRequest({ provider: "gated" });
    const calls = gated.externalIds.length;
    const slow = client.createVirtualAccount(request).then(
      (r) => ({ ok: true as const, id: r.virtualAccount?.id }),
      (e: unknown) => ({ ok: false as const, error: ConnectError.from(e) }),
    );
    await eventually(async () => (gated.externalIds.length === calls + 1 ? true : undefined));
    gateway.advanceClock(61_000);
    const retry = client.createVirtualAccount(request).then(
      (r) => ({ ok: true as const, id: r.virtualAccount?.id }),
      (e: unknown) => ({ ok: false as const, error: ConnectError.from(e) }),
    );
    await eventually(async () => (gated.externalIds.length === calls + 2 ? true : undefined));
    gated.release();
    const [first, second] = await Promise.all([slow, retry]);
    expect(first.ok).toBe(false);
    expect(!first.ok && first.error.code).toBe(10);
    expect(second.ok).toBe(true);
    const replay = await client.createVirtualAccount(request);
    expect(replay.virtualAccount?.id).toBe(second.ok ? second.id : "");
    const events = await takeEvents(client, { filter: { case: "merchantReference", value: request.merchantReference ?? "" } }, 1);
    const more = await takeEvents(
      client,
      { filter: { case: "merchantReference", value: request.merchantReference ?? "" }, afterCursor: events[0]?.cursor },
      1,
      1_000,
    ).catch((e: Error) => e);
    expect(more).toBeInstanceOf(Error);
  });

  it("cancel: same key replays, a different request with the key is ALREADY_EXISTS", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const a = (await client.createVirtualAccount(createRequest())).virtualAccount?.id ?? "";
    const b = (await client.createVirtualAccount(createRequest())).virtualAccount?.id ?? "";
    await client.cancelVirtualAccount({ virtualAccountId: a, idempotencyKey: "cancel-key" });
    expect((await client.cancelVirtualAccount({ virtualAccountId: a, idempotencyKey: "cancel-key" })).replayed).toBe(true);
    const reused = await rejection(client.cancelVirtualAccount({ virtualAccountId: b, idempotencyKey: "cancel-key" }));
    expect(reused.code).toBe(6);
    expect(reused.rawMessage).toContain("cancel-key");
  });

  it("keys are kept for the retention period, then forgotten", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const request = createRequest();
    const first = await client.createVirtualAccount(request);
    gateway.advanceClock(30 * 60_000);
    expect((await client.createVirtualAccount(request)).replayed).toBe(true);
    gateway.advanceClock(31 * 60_000);
    await eventually(async () => {
      const again = await client
        .createVirtualAccount({ ...request, merchantReference: "after-retention" })
        .catch(() => undefined);
      return again?.replayed === false ? again : undefined;
    });
    expect(first.virtualAccount?.id).toBeDefined();
  });
});
