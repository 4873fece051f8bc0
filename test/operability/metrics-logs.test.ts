import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType, VirtualAccountStatus } from "../../src/gen/va/v1/va_pb.js";
import { vaClient } from "../support/clients.js";
import { createRequest, sandboxCallback, sandboxPaymentId } from "../support/fixtures.js";
import { SANDBOX_SECRETS, startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";
import { metricValue, scrape } from "./prometheus.js";

const VA = "va.v1.VaService";
const WRONG_KEY = "wrong-key-4f1c2a9d8e7b";

/** One Connect-JSON call by hand, to control and read the `x-request-id` header. */
async function connectCall(url: string, method: string, body: object, headers: Record<string, string>) {
  const response = await fetch(`${url}/${VA}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TENANTS.alpha.apiKey}`, ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    requestId: response.headers.get("x-request-id"),
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** The `x-sandbox-signature` value of a delivery, whatever the header's spelling. */
const signatureOf = (headers: Record<string, string>) =>
  Object.entries(headers).find(([name]) => name.toLowerCase() === "x-sandbox-signature")?.[1] ?? "";

const parsedLogs = (gateway: TestGateway) =>
  gateway.logs.flatMap((chunk) => chunk.split("\n").filter(Boolean)).map((line) => JSON.parse(line) as Record<string, unknown>);

describe("metrics, request ids and redaction through a full flow", () => {
  let gateway: TestGateway;
  const signatures: string[] = [];

  beforeAll(async () => {
    gateway = await startTestGateway({ dialect: "sqlite", controlledClock: true, config: { sweepIntervalMs: 50 } });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("counts RPCs, provider calls, callbacks, stream subscribers and sweeps; logs carry request ids", async () => {
    const before = await scrape(gateway.url);
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);

    // Create with our own request id: echoed back, and on the RPC's log line.
    const created = await connectCall(
      gateway.url,
      "CreateVirtualAccount",
      { ...createRequest(), usage: "VA_USAGE_SINGLE", amount: { fixed: { amount: "25000" } } },
      { "x-request-id": "req-create-0001" },
    );
    expect(created.status).toBe(200);
    expect(created.requestId).toBe("req-create-0001");
    const va = created.body.virtualAccount as { id: string; providerReference: string; vaNumber: string; bankCode: string };

    // A stream is a subscriber while it is open.
    const abort = new AbortController();
    const stream = client
      .streamPaymentEvents({ filter: { case: "virtualAccountId", value: va.id } }, { signal: abort.signal })
      [Symbol.asyncIterator]();
    expect((await stream.next()).value?.kind.value?.type).toBe(EventType.VIRTUAL_ACCOUNT_CREATED);
    expect(metricValue(await scrape(gateway.url), "va_stream_subscribers")).toBe(1);

    // The simulator pays and calls back (a provider call, then a verified callback).
    await client.simulatePayment({ virtualAccountId: va.id });
    for (;;) {
      const next = await stream.next();
      if (next.value?.kind.case === "event" && next.value.kind.value.type === EventType.PAYMENT_RECEIVED) break;
    }
    abort.abort();
    await stream.return?.();
    await expect.poll(async () => metricValue(await scrape(gateway.url), "va_stream_subscribers")).toBe(0);

    // A callback we sign ourselves (verified), and a forged one (rejected), with request ids.
    const callback = sandboxCallback(SANDBOX_SECRETS, gateway.now(), va, { id: sandboxPaymentId(), amount: 1_000n });
    const accepted = await fetch(`${gateway.url}/webhooks/sandbox`, {
      method: "POST",
      headers: { ...callback.headers, "x-request-id": "req-webhook-good" },
      body: callback.body,
    });
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get("x-request-id")).toBe("req-webhook-good");
    const kit = gateway.sandboxKits.get("sandbox");
    const forged = kit?.forgeCallback(
      {
        providerAccount: SANDBOX_SECRETS.merchantId,
        providerReference: va.providerReference,
        vaNumber: va.vaNumber,
        bankCode: va.bankCode,
      },
      25_000n,
    );
    const rejected = await fetch(`${gateway.url}/webhooks/sandbox`, {
      method: "POST",
      headers: { ...forged?.headers, "x-request-id": "req-webhook-forged" },
      body: forged?.body,
    });
    expect(rejected.status).toBeGreaterThanOrEqual(400);
    signatures.push(
      signatureOf(callback.headers),
      signatureOf(forged?.headers ?? {}),
      signatureOf(kit?.lastDelivery()?.headers ?? {}),
    );

    // A caller with a wrong key.
    const denied = await vaClient(gateway.url, WRONG_KEY)
      .inquiryVirtualAccount({ virtualAccountId: va.id })
      .catch((e: unknown) => ConnectError.from(e));
    expect((denied as ConnectError).code).toBe(Code.Unauthenticated);

    // The sweeper closes VAs past their expiry (default 24 h).
    const other = await client.createVirtualAccount(createRequest());
    gateway.advanceClock(25 * 3600_000);
    await expect
      .poll(async () => metricValue(await scrape(gateway.url), "va_sweeper_expired_total"), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(1);
    expect(
      (await client.inquiryVirtualAccount({ virtualAccountId: other.virtualAccount?.id ?? "" })).virtualAccount?.status,
    ).toBe(VirtualAccountStatus.EXPIRED);

    const after = await scrape(gateway.url);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      metricValue(after, name, labels) - metricValue(before, name, labels);
    const rpc = (method: string, code?: string) => ({
      grpc_service: VA,
      grpc_method: method,
      ...(code ? { grpc_code: code } : {}),
    });
    expect(delta("grpc_server_started_total", rpc("CreateVirtualAccount"))).toBe(2);
    expect(delta("grpc_server_handled_total", rpc("CreateVirtualAccount", "OK"))).toBe(2);
    expect(delta("grpc_server_handled_total", rpc("InquiryVirtualAccount", "Unauthenticated"))).toBe(1);
    expect(delta("grpc_server_handled_total", rpc("StreamPaymentEvents"))).toBe(1);
    expect(delta("grpc_server_handling_seconds_count", rpc("SimulatePayment"))).toBe(1);
    expect(delta("va_provider_request_duration_seconds_count", { provider: "sandbox", outcome: "2xx" })).toBeGreaterThanOrEqual(
      3,
    );
    expect(delta("va_provider_request_errors_total")).toBe(0);
    expect(delta("va_webhook_callbacks_total", { provider: "sandbox", result: "verified" })).toBe(2);
    expect(delta("va_webhook_callbacks_total", { provider: "sandbox", result: "rejected" })).toBe(1);
    expect(delta("va_webhook_payments_total", { provider: "sandbox", result: "recorded" })).toBe(2);
    expect(delta("va_sweeper_runs_total", { result: "ok" })).toBeGreaterThan(0);
    expect(metricValue(after, "process_cpu_user_seconds_total")).toBeGreaterThan(0);

    // Logs: one line per RPC and per webhook, each with its request id.
    const lines = parsedLogs(gateway);
    const rpcLines = lines.filter((l) => l.msg === "rpc");
    expect(rpcLines.every((l) => typeof l.requestId === "string" && l.requestId !== "")).toBe(true);
    expect(rpcLines).toContainEqual(
      expect.objectContaining({ requestId: "req-create-0001", rpc: `${VA}/CreateVirtualAccount`, tenant: "alpha", code: "OK" }),
    );
    expect(rpcLines).toContainEqual(expect.objectContaining({ rpc: `${VA}/InquiryVirtualAccount`, code: "Unauthenticated" }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: "webhook", requestId: "req-webhook-good", status: 200 }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: "webhook rejected", requestId: "req-webhook-forged" }));
    expect(lines.filter((l) => l.msg === "webhook").length).toBeGreaterThanOrEqual(3);
  });

  it("no API key, provider secret, webhook secret or callback signature reaches the logs", () => {
    const secrets = [TENANTS.alpha.apiKey, WRONG_KEY, SANDBOX_SECRETS.apiKey, SANDBOX_SECRETS.webhookSecret, ...signatures];
    expect(signatures.filter((s) => s.length >= 16)).toHaveLength(3);
    const text = gateway.logs.join("");
    expect(text.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(text.includes(secret), `log contains ${secret.slice(0, 6)}…`).toBe(false);
    expect(text).not.toMatch(/Bearer /i);
  });
});
