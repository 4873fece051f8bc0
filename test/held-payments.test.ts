import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vaClient } from "./support/clients.js";
import { postgresUnavailableReason } from "./support/databases.js";
import { createRequest, sandboxCallback, sandboxPaymentId } from "./support/fixtures.js";
import { SANDBOX_SECRETS, startTestGateway, TENANTS, type TestDialect, type TestGateway } from "./support/gateway.js";

/**
 * A payment a provider reports that matches no VA of ours is never dropped: it is acknowledged (we hold
 * its record), kept in the database, counted on /metrics and listed to operators, and recorded on its
 * VA once one matches (the misbehaviour matrix covers that part for every provider).
 */
const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] held payments on PostgreSQL: ${postgresSkip}`);
const DIALECTS: TestDialect[] = postgresSkip ? ["sqlite"] : ["sqlite", "postgresql"];
const OPERATOR_KEY = "operator-key-0123456789";

describe.each(DIALECTS)("held payments on %s", (dialect) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ dialect, config: { operatorKey: OPERATOR_KEY } });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const held = (authorization?: string, query = "") =>
    fetch(`${gateway.url}/operator/held-payments${query}`, { headers: authorization ? { authorization } : {} }).then(
      async (r) => ({ status: r.status, body: (await r.json()) as { heldPayments?: Record<string, unknown>[]; error?: string } }),
    );

  const unknownVa = { providerReference: `sbva_${"e".repeat(24)}`, vaNumber: "8808999000111222", bankCode: "BNI" };

  it("a signed callback for a VA we do not know is acknowledged and held, once, however often it comes", async () => {
    const payment = { id: sandboxPaymentId(), amount: 25_000n };
    const callback = sandboxCallback(SANDBOX_SECRETS, gateway.now(), unknownVa, payment);
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await fetch(`${gateway.url}/webhooks/sandbox`, { method: "POST", ...callback });
      expect(answer.status).toBe(200);
    }
    const { status, body } = await held(`Bearer ${OPERATOR_KEY}`);
    expect(status).toBe(200);
    const mine = body.heldPayments?.filter((h) => h.providerPaymentReference === payment.id) ?? [];
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      provider: "sandbox",
      vaNumber: unknownVa.vaNumber,
      amount: "25000",
      reason: "UNMATCHED",
      state: "HELD",
      virtualAccountId: null,
    });
    expect(gateway.logs.join("")).toContain('"msg":"payment callback not recorded"');
  });

  it("/metrics counts what is still held, by provider and reason", async () => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(text).toMatch(/^va_held_payments\{provider="sandbox",reason="UNMATCHED"\} [1-9]/m);
  });

  it("the operator route wants the operator key, and refuses bad filters with the field", async () => {
    expect((await held()).status).toBe(401);
    expect((await held(`Bearer ${OPERATOR_KEY}x`)).status).toBe(401);
    expect((await held(`Bearer ${TENANTS.alpha.apiKey}`)).status).toBe(401);
    expect(await held(`Bearer ${OPERATOR_KEY}`, "?state=LOST")).toMatchObject({ status: 400, body: { field: "state" } });
    expect(await held(`Bearer ${OPERATOR_KEY}`, "?limit=0")).toMatchObject({ status: 400, body: { field: "limit" } });
    const refuted = await held(`Bearer ${OPERATOR_KEY}`, "?state=REFUTED&provider=sandbox");
    expect(refuted.status).toBe(200);
  });

  it("a callback for a known VA is recorded, not held", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const { virtualAccount } = await client.createVirtualAccount(createRequest({ provider: "sandbox", bankCode: "BNI" }));
    const { providerPaymentReference } = await client.simulatePayment({ virtualAccountId: virtualAccount?.id ?? "" });
    await gateway.sandboxKits.get("sandbox")?.idle();
    const { payments } = await client.getPaymentStatus({ virtualAccountId: virtualAccount?.id ?? "" });
    expect(payments.map((p) => p.providerPaymentReference)).toEqual([providerPaymentReference]);
    const { body } = await held(`Bearer ${OPERATOR_KEY}`);
    expect(body.heldPayments?.some((h) => h.providerPaymentReference === providerPaymentReference)).toBe(false);
  });
});

describe("operator routes without VA_OPERATOR_KEY", () => {
  it("answer 403 and say how to turn them on", async () => {
    const gateway = await startTestGateway({ dialect: "sqlite" });
    try {
      const answer = await fetch(`${gateway.url}/operator/held-payments`, {
        headers: { authorization: "Bearer anything-at-all-123" },
      });
      expect(answer.status).toBe(403);
      expect(await answer.json()).toEqual({ error: "operator routes are off: set VA_OPERATOR_KEY" });
    } finally {
      await gateway.stop();
    }
  });
});
