import { randomBytes } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.js";
import { type RunningTracing, startTracing, tracingFromEnv } from "../../src/operability/tracing-sdk.js";
import { PROTOCOLS, vaClient } from "../support/clients.js";
import { createRequest, sandboxCallback, sandboxPaymentId } from "../support/fixtures.js";
import { SANDBOX_SECRETS, startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";

const VA = "va.v1.VaService";

/** A caller's trace: a fresh W3C `traceparent` and its parts. */
function callerTrace() {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Request headers as undici sends them (a Node diagnostics channel), to see what providers receive. */
function recordOutgoingHeaders() {
  const sent: string[] = [];
  const onHeaders = (message: unknown) => sent.push((message as { headers: string }).headers);
  subscribe("undici:client:sendHeaders", onHeaders);
  return { sent, stop: () => unsubscribe("undici:client:sendHeaders", onHeaders) };
}

const logLines = (gateway: TestGateway) =>
  gateway.logs.flatMap((chunk) => chunk.split("\n").filter(Boolean)).map((line) => JSON.parse(line) as Record<string, unknown>);

const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((span) => span.parentSpanContext?.spanId === spanId(parent));

describe("with tracing off (the default)", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ dialect: "sqlite" });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("passes no trace on to providers and writes no trace ids, whatever the caller sends", async () => {
    const outgoing = recordOutgoingHeaders();
    const created = await vaClient(gateway.url, TENANTS.alpha.apiKey).createVirtualAccount(createRequest(), {
      headers: { traceparent: callerTrace().traceparent },
    });
    outgoing.stop();
    expect(created.virtualAccount?.id).toBeTruthy();
    expect(outgoing.sent.length).toBeGreaterThan(0);
    expect(outgoing.sent.some((headers) => /traceparent/i.test(headers))).toBe(false);
    expect(logLines(gateway).some((line) => "traceId" in line)).toBe(false);
  });
});

describe("with tracing on (in-memory exporter)", () => {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor({ exporter });
  let tracing: RunningTracing;
  let gateway: TestGateway;

  beforeAll(async () => {
    tracing = await startTracing([processor]);
    gateway = await startTestGateway({ dialect: "sqlite" });
  });
  afterAll(async () => {
    await gateway?.stop();
    await tracing?.shutdown();
  });

  /** The finished spans of one trace (exports wait for the resource's detected attributes: flush first). */
  const spansOf = async (traceId: string) => {
    await processor.forceFlush();
    return exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
  };

  it.each(PROTOCOLS)(
    "a create over %s continues the caller's trace: RPC span → transactions and the provider call",
    async (protocol) => {
      const caller = callerTrace();
      const requestId = `req-trace-${protocol}`;
      const outgoing = recordOutgoingHeaders();
      const created = await vaClient(gateway.url, TENANTS.alpha.apiKey, protocol).createVirtualAccount(createRequest(), {
        headers: { traceparent: caller.traceparent, "x-request-id": requestId },
      });
      outgoing.stop();
      expect(created.virtualAccount?.id).toBeTruthy();

      const spans = await spansOf(caller.traceId);
      const rpc = spans.find((span) => span.name === `${VA}/CreateVirtualAccount`);
      expect(rpc).toBeDefined();
      if (!rpc) return;
      expect(rpc.kind).toBe(SpanKind.SERVER);
      expect(rpc.parentSpanContext?.spanId).toBe(caller.spanId);
      expect(rpc.status.code).toBe(SpanStatusCode.UNSET);
      expect(rpc.attributes).toMatchObject({
        "rpc.system": protocol === "connect" ? "connect_rpc" : "grpc",
        "rpc.service": VA,
        "rpc.method": "CreateVirtualAccount",
      });
      if (protocol !== "connect") expect(rpc.attributes["rpc.grpc.status_code"]).toBe(0);

      const children = childrenOf(spans, rpc);
      const transactions = children.filter((span) => span.name === "transaction");
      expect(transactions.length).toBeGreaterThan(0);
      for (const transaction of transactions) {
        expect(transaction.kind).toBe(SpanKind.CLIENT);
        expect(transaction.attributes["db.system.name"]).toBe("sqlite");
      }
      const providerCalls = children.filter((span) => span.attributes["va.provider"] === "sandbox");
      expect(providerCalls).toHaveLength(1);
      const [call] = providerCalls;
      expect(call?.kind).toBe(SpanKind.CLIENT);
      expect(call?.name).toBe("POST");
      expect(call?.attributes).toMatchObject({ "http.request.method": "POST", "http.response.status_code": 201 });
      // Nothing else in the trace: every span is the RPC or one of its children.
      expect(spans).toHaveLength(1 + children.length);

      // The provider was told the trace, with the provider call's span as the parent.
      const providerRequest = outgoing.sent.find((headers) => headers.includes(caller.traceId));
      expect(providerRequest?.toLowerCase()).toContain(`traceparent: 00-${caller.traceId}-${call && spanId(call)}-01`);

      // Every line logged for this request carries the trace.
      const lines = logLines(gateway).filter((line) => line.requestId === requestId);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatchObject({ traceId: caller.traceId, spanId: spanId(rpc) });
    },
  );

  it("a webhook is a server span of its own trace, the parent of the transactions recording the payment", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const va = (await client.createVirtualAccount(createRequest())).virtualAccount;
    if (!va) throw new Error("no virtual account");
    const caller = callerTrace();
    const callback = sandboxCallback(SANDBOX_SECRETS, new Date(), va, { id: sandboxPaymentId(), amount: 25_000n });
    const answer = await fetch(`${gateway.url}/webhooks/sandbox`, {
      method: "POST",
      headers: { ...callback.headers, traceparent: caller.traceparent, "x-request-id": "req-trace-webhook" },
      body: callback.body,
    });
    expect(answer.status).toBe(200);

    const spans = await spansOf(caller.traceId);
    const webhook = spans.find((span) => span.name === "POST /webhooks/{provider}");
    expect(webhook).toBeDefined();
    if (!webhook) return;
    expect(webhook.kind).toBe(SpanKind.SERVER);
    expect(webhook.parentSpanContext?.spanId).toBe(caller.spanId);
    expect(webhook.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/webhooks/{provider}",
      "http.response.status_code": 200,
      "va.provider": "sandbox",
    });
    const transactions = childrenOf(spans, webhook).filter((span) => span.name === "transaction");
    expect(transactions.length).toBeGreaterThan(0);
    const lines = logLines(gateway).filter((line) => line.requestId === "req-trace-webhook");
    expect(lines.map((line) => line.msg)).toContain("webhook");
    for (const line of lines) expect(line).toMatchObject({ traceId: caller.traceId, spanId: spanId(webhook) });
  });

  it("a call without a traceparent starts a trace; a caller's error is not a failed span", async () => {
    await processor.forceFlush();
    exporter.reset();
    const failure = await vaClient(gateway.url, TENANTS.alpha.apiKey, "grpc")
      .inquiryVirtualAccount({ virtualAccountId: "va_doesnotexist" })
      .catch((error: unknown) => ConnectError.from(error));
    expect(failure).toBeInstanceOf(ConnectError);
    await processor.forceFlush();
    const rpc = exporter.getFinishedSpans().find((span) => span.name === `${VA}/InquiryVirtualAccount`);
    expect(rpc?.parentSpanContext).toBeUndefined();
    expect(rpc?.attributes["rpc.grpc.status_code"]).toBe((failure as ConnectError).code);
    expect((failure as ConnectError).code).not.toBe(Code.Internal);
    expect(rpc?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("a response stream is one span, ended when the stream ends, and its log line carries the trace", async () => {
    const caller = callerTrace();
    const abort = new AbortController();
    const stream = vaClient(gateway.url, TENANTS.alpha.apiKey)
      .streamPaymentEvents(
        {},
        { signal: abort.signal, headers: { traceparent: caller.traceparent, "x-request-id": "req-trace-stream" } },
      )
      [Symbol.asyncIterator]();
    await stream.next();
    abort.abort();
    await stream.return?.();
    const streamSpan = async () => (await spansOf(caller.traceId)).find((span) => span.name === `${VA}/StreamPaymentEvents`);
    await expect.poll(streamSpan).toBeDefined();
    const rpc = await streamSpan();
    expect(rpc?.parentSpanContext?.spanId).toBe(caller.spanId);
    expect(rpc?.status.code).toBe(SpanStatusCode.UNSET);
    const line = logLines(gateway).find((entry) => entry.requestId === "req-trace-stream" && entry.msg === "rpc");
    expect(line).toMatchObject({ traceId: caller.traceId, spanId: rpc && spanId(rpc) });
  });
});

describe("OTLP export from the OTEL_* variables", () => {
  const variables = ["OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_SERVICE_NAME"];
  const saved = Object.fromEntries(variables.map((name) => [name, process.env[name]]));
  const received: { path: string; body: string }[] = [];
  let collector: Server;

  beforeAll(async () => {
    collector = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        received.push({ path: request.url ?? "", body });
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    for (const name of variables) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await new Promise((resolve) => collector?.close(resolve));
  });

  it("sends the spans of a traced call to the OTLP endpoint under the configured service name", async () => {
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "va-gateway-test",
    });
    expect(tracingFromEnv(process.env)).toBe(true);
    const tracing = await startTracing();
    const gateway = await startTestGateway({ dialect: "sqlite" });
    const caller = callerTrace();
    try {
      await vaClient(gateway.url, TENANTS.alpha.apiKey).createVirtualAccount(createRequest(), {
        headers: { traceparent: caller.traceparent },
      });
    } finally {
      await gateway.stop();
      await tracing.shutdown();
    }
    const exported = received.filter((request) => request.path === "/v1/traces").map((request) => request.body);
    expect(exported.some((body) => body.includes(caller.traceId))).toBe(true);
    expect(exported.join("")).toContain('"va-gateway-test"');
  });
});

describe("tracingFromEnv", () => {
  it("is off unless an exporter or an OTLP endpoint is named, and off when the SDK is disabled", () => {
    expect(tracingFromEnv({})).toBe(false);
    expect(tracingFromEnv({ OTEL_SERVICE_NAME: "va" })).toBe(false);
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://collector/v1/traces" })).toBe(true);
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: "console" })).toBe(true);
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: "otlp,console" })).toBe(true);
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(false);
    expect(tracingFromEnv({ OTEL_SDK_DISABLED: "TRUE", OTEL_TRACES_EXPORTER: "otlp" })).toBe(false);
    expect(tracingFromEnv({ OTEL_SDK_DISABLED: "false", OTEL_TRACES_EXPORTER: "otlp" })).toBe(true);
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: "jaeger" }, /^OTEL_TRACES_EXPORTER: unknown exporter "jaeger"/],
    [{ OTEL_TRACES_EXPORTER: "none,otlp" }, /^OTEL_TRACES_EXPORTER: "none" cannot be combined/],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: "http" }, /^OTEL_EXPORTER_OTLP_PROTOCOL: unknown protocol "http"/],
    [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "udp" }, /^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: unknown protocol/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, /^OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL$/],
    [{ OTEL_SDK_DISABLED: "1" }, /^OTEL_SDK_DISABLED must be true or false/],
  ])("refuses %o in one line naming the variable", (env, message) => {
    expect(() => tracingFromEnv(env)).toThrow(ConfigError);
    expect(() => tracingFromEnv(env)).toThrow(message);
  });
});
