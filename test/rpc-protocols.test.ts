import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fromBinary } from "@bufbuild/protobuf";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ErrorDetailSchema,
  EventType,
  PaymentOutcome,
  VaService,
  VaUsage,
  VirtualAccountStatus,
} from "../src/gen/va/v1/va_pb.js";
import { PROTOCOLS, type ProtocolName, vaClient } from "./support/clients.js";
import { createRequest, takeEvents } from "./support/fixtures.js";
import { startTestGateway, TENANTS, type TestGateway } from "./support/gateway.js";
import {
  type GrpcJsVaClient,
  grpcJsVaClient,
  isServiceError,
  type PaymentEventJs,
  type StreamItemJs,
  statusDetailsOf,
} from "./support/grpc-js-client.js";

const UNKNOWN_VA_ID = `va_${"0123456789abcdef".repeat(2)}`;

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway({ dialect: "sqlite" });
});
afterAll(async () => {
  await gateway?.stop();
});

/** Runs `probe` and returns what it threw (fails when it did not throw). */
async function failureOf(probe: () => Promise<unknown>): Promise<unknown> {
  try {
    await probe();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("a real @grpc/grpc-js client (service loaded from the .proto at runtime)", () => {
  let client: GrpcJsVaClient;

  beforeAll(async () => {
    client = await grpcJsVaClient(gateway.url, `Bearer ${TENANTS.alpha.apiKey}`);
  });
  afterAll(() => client?.close());

  /** Collects stream items until `count` events arrived, then cancels the call; resolves with the final status. */
  function readEventsThenCancel(request: object, count: number) {
    const call = client.streamPaymentEvents(request);
    const events: PaymentEventJs[] = [];
    let heartbeats = 0;
    return new Promise<{ events: PaymentEventJs[]; heartbeats: number; code: number; details: string }>((resolve, reject) => {
      const timer = setTimeout(() => {
        call.cancel();
        reject(new Error(`only ${events.length} of ${count} events arrived`));
      }, 10_000);
      call.on("data", (item: StreamItemJs) => {
        if (item.kind === "heartbeat") heartbeats++;
        if (item.kind !== "event" || !item.event) return;
        events.push(item.event);
        if (events.length === count) call.cancel();
      });
      // A cancelled call ends with an `error` event carrying CANCELLED (and a `status` event).
      call.on("error", (error: Error) => {
        clearTimeout(timer);
        if (!isServiceError(error)) return reject(error);
        resolve({ events, heartbeats, code: error.code, details: error.details });
      });
      call.on("end", () => {
        clearTimeout(timer);
        reject(new Error("the stream ended without being cancelled"));
      });
    });
  }

  it("runs every RPC: create, inquiry, simulate, payment status, stream (then cancel), cancel", async () => {
    const merchantReference = `grpcjs-${Date.now()}`;
    const created = await client.createVirtualAccount({
      idempotencyKey: `grpcjs-${Date.now()}`,
      merchantReference,
      bankCode: "BNI",
      usage: "VA_USAGE_SINGLE",
      amount: { fixed: { amount: "25000" } },
      customer: { name: "Budi Santoso", email: "budi@example.co.id", phone: "+6281234567890" },
    });
    expect(created.replayed).toBe(false);
    const va = created.virtualAccount;
    expect(va).toMatchObject({
      merchantReference,
      provider: "sandbox",
      bankCode: "BNI",
      usage: "VA_USAGE_SINGLE",
      status: "VIRTUAL_ACCOUNT_STATUS_ACTIVE",
      paidAmount: "0", // longs: String
      paymentCount: 0, // defaults: true
      amount: { rule: "fixed", fixed: { amount: "25000" } }, // oneofs: true
      customer: { name: "Budi Santoso", email: "budi@example.co.id", phone: "+6281234567890" },
    });
    expect(va?.id).toMatch(/^va_[0-9a-f]{32}$/);
    expect(va?.vaNumber).toMatch(/^[0-9]{8,23}$/);
    const id = va?.id ?? "";

    const inquired = await client.inquiryVirtualAccount({ virtualAccountId: id });
    expect(inquired.virtualAccount).toEqual(va);

    const simulated = await client.simulatePayment({ virtualAccountId: id });
    expect(simulated.providerPaymentReference).toMatch(/^sbpay_[0-9a-f]{24}$/);

    const stream = await readEventsThenCancel({ virtualAccountId: id, afterCursor: "" }, 2);
    expect(stream.code).toBe(GrpcStatus.CANCELLED);
    expect(stream.events.map((e) => e.type)).toEqual(["EVENT_TYPE_VIRTUAL_ACCOUNT_CREATED", "EVENT_TYPE_PAYMENT_RECEIVED"]);
    expect(stream.events[0]?.cursor).toMatch(/^[0-9]+$/);
    expect(stream.events[1]?.payment).toMatchObject({
      virtualAccountId: id,
      amount: "25000",
      fee: "2500",
      netAmount: "22500",
      outcome: "PAYMENT_OUTCOME_ACCEPTED",
      providerPaymentReference: simulated.providerPaymentReference,
    });
    expect(stream.events[1]?.virtualAccount?.status).toBe("VIRTUAL_ACCOUNT_STATUS_COMPLETED");

    const status = await client.getPaymentStatus({ virtualAccountId: id });
    expect(status.virtualAccount?.status).toBe("VIRTUAL_ACCOUNT_STATUS_COMPLETED");
    expect(status.virtualAccount?.paidAmount).toBe("25000");
    expect(status.payments).toHaveLength(1);
    expect(status.payments[0]?.outcome).toBe("PAYMENT_OUTCOME_ACCEPTED");

    const open = await client.createVirtualAccount({
      idempotencyKey: `grpcjs-open-${Date.now()}`,
      merchantReference,
      bankCode: "BRI",
      usage: "VA_USAGE_MULTI",
      amount: { range: { min: "10000", max: "50000" } },
      customer: { name: "Siti" },
    });
    expect(open.virtualAccount?.amount).toMatchObject({ rule: "range", range: { min: "10000", max: "50000" } });
    const openId = open.virtualAccount?.id ?? "";
    const cancelled = await client.cancelVirtualAccount({ virtualAccountId: openId, idempotencyKey: `cancel-${openId}` });
    expect(cancelled).toMatchObject({
      replayed: false,
      virtualAccount: { id: openId, status: "VIRTUAL_ACCOUNT_STATUS_CANCELLED" },
    });
    const again = await client.cancelVirtualAccount({ virtualAccountId: openId, idempotencyKey: `cancel-${openId}` });
    expect(again.replayed).toBe(true);
  });

  it("a stream of all events sends heartbeats while idle and ends CANCELLED on call.cancel()", async () => {
    const call = client.streamPaymentEvents({ afterCursor: "999999999" });
    const first = await new Promise<StreamItemJs>((resolve, reject) => {
      call.once("data", resolve);
      call.once("error", reject);
    });
    expect(first.kind).toBe("heartbeat");
    expect(first.heartbeat?.sentAt?.seconds).toMatch(/^[0-9]+$/);
    const ended = new Promise<number>((resolve) => call.on("error", (e: Error) => resolve(isServiceError(e) ? e.code : -1)));
    call.cancel();
    expect(await ended).toBe(GrpcStatus.CANCELLED);
  });

  it("NOT_FOUND carries the status code, the message and a grpc-status-details-bin trailer with va.v1.ErrorDetail", async () => {
    const error = await failureOf(() => client.inquiryVirtualAccount({ virtualAccountId: UNKNOWN_VA_ID }));
    if (!isServiceError(error)) throw error;
    expect(error.code).toBe(GrpcStatus.NOT_FOUND);
    expect(error.details).toContain(UNKNOWN_VA_ID);
    const status = statusDetailsOf(error);
    expect(status, "grpc-status-details-bin trailer").toBeDefined();
    expect(status?.code).toBe(GrpcStatus.NOT_FOUND);
    const detail = status?.details.find((d) => d.typeUrl.endsWith("/va.v1.ErrorDetail"));
    expect(detail, JSON.stringify(status?.details.map((d) => d.typeUrl))).toBeDefined();
    expect(fromBinary(ErrorDetailSchema, detail?.value ?? new Uint8Array()).$typeName).toBe("va.v1.ErrorDetail");
  });

  it("INVALID_ARGUMENT carries buf.validate.Violations naming the field in the trailer", async () => {
    const error = await failureOf(() =>
      client.createVirtualAccount({
        idempotencyKey: `grpcjs-bad-${Date.now()}`,
        merchantReference: "order-1",
        bankCode: "BCA",
        usage: "VA_USAGE_SINGLE",
        amount: { fixed: { amount: "0" } },
        customer: { name: "Budi" },
      }),
    );
    if (!isServiceError(error)) throw error;
    expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(error.details).toContain("amount.fixed.amount");
    const detail = statusDetailsOf(error)?.details.find((d) => d.typeUrl.endsWith("/buf.validate.Violations"));
    expect(detail).toBeDefined();
    const violations = fromBinary(ViolationsSchema, detail?.value ?? new Uint8Array());
    expect(violations.violations.map((v) => v.field?.elements.map((e) => e.fieldName).join("."))).toContain(
      "amount.fixed.amount",
    );
  });

  it("a domain error on the server stream (unknown VA) arrives as NOT_FOUND with the trailer", async () => {
    const call = client.streamPaymentEvents({ virtualAccountId: UNKNOWN_VA_ID });
    const error = await new Promise<unknown>((resolve) => {
      call.on("data", () => undefined);
      call.on("error", resolve);
      call.on("end", () => resolve(new Error("stream ended without an error")));
    });
    if (!isServiceError(error)) throw error;
    expect(error.code).toBe(GrpcStatus.NOT_FOUND);
    expect(statusDetailsOf(error)?.details.some((d) => d.typeUrl.endsWith("/va.v1.ErrorDetail"))).toBe(true);
  });

  it("a missing API key is UNAUTHENTICATED", async () => {
    const anonymous = await grpcJsVaClient(gateway.url, undefined);
    try {
      const error = await failureOf(() => anonymous.inquiryVirtualAccount({ virtualAccountId: UNKNOWN_VA_ID }));
      expect(isServiceError(error) && error.code).toBe(GrpcStatus.UNAUTHENTICATED);
    } finally {
      anonymous.close();
    }
  });
});

describe.each<ProtocolName>(PROTOCOLS)("connect-node client over %s", (protocol) => {
  let client: ReturnType<typeof vaClient>;
  beforeAll(() => {
    client = vaClient(gateway.url, TENANTS.alpha.apiKey, protocol);
  });

  it("runs every RPC end to end", async () => {
    const request = createRequest({ merchantReference: `proto-${protocol}-${Date.now()}` });
    const created = await client.createVirtualAccount(request);
    expect(created.replayed).toBe(false);
    const id = created.virtualAccount?.id ?? "";
    expect(id).toMatch(/^va_[0-9a-f]{32}$/);
    expect(created.virtualAccount?.amount?.rule).toEqual({ case: "fixed", value: expect.objectContaining({ amount: 25_000n }) });
    const replay = await client.createVirtualAccount(request);
    expect(replay).toMatchObject({ replayed: true, virtualAccount: { id } });

    const { virtualAccount } = await client.inquiryVirtualAccount({ virtualAccountId: id });
    expect(virtualAccount?.status).toBe(VirtualAccountStatus.ACTIVE);
    expect(virtualAccount?.merchantReference).toBe(request.merchantReference);

    const { providerPaymentReference } = await client.simulatePayment({ virtualAccountId: id });
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: id } }, 2);
    expect(events.map((e) => e.type)).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED, EventType.PAYMENT_RECEIVED]);
    expect(events[1]?.payment?.providerPaymentReference).toBe(providerPaymentReference);
    expect(events[1]?.payment?.outcome).toBe(PaymentOutcome.ACCEPTED);

    const status = await client.getPaymentStatus({ virtualAccountId: id });
    expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);
    expect(status.payments.map((p) => p.amount)).toEqual([25_000n]);

    const multi = await client.createVirtualAccount(
      createRequest({ usage: VaUsage.MULTI, amount: { rule: { case: "open", value: {} } } }),
    );
    const multiId = multi.virtualAccount?.id ?? "";
    const cancelled = await client.cancelVirtualAccount({ virtualAccountId: multiId, idempotencyKey: `c-${multiId}` });
    expect(cancelled.virtualAccount?.status).toBe(VirtualAccountStatus.CANCELLED);
    const streamed = await takeEvents(client, { filter: { case: "virtualAccountId", value: multiId } }, 2);
    expect(streamed.map((e) => e.type)).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED, EventType.VIRTUAL_ACCOUNT_CANCELLED]);
  });

  it("a server stream can be aborted by the client and sends heartbeats while idle", async () => {
    const abort = new AbortController();
    const kinds: (string | undefined)[] = [];
    const reading = (async () => {
      for await (const message of client.streamPaymentEvents({ afterCursor: "999999999" }, { signal: abort.signal })) {
        kinds.push(message.kind.case);
        abort.abort();
      }
    })();
    const error = await reading.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(kinds).toEqual(["heartbeat"]);
    if (error !== undefined) expect(ConnectError.from(error).code).toBe(Code.Canceled);
  });

  it("errors keep their code and details: NOT_FOUND with ErrorDetail, INVALID_ARGUMENT with Violations", async () => {
    const notFound = ConnectError.from(await failureOf(() => client.getPaymentStatus({ virtualAccountId: UNKNOWN_VA_ID })));
    expect(notFound.code).toBe(Code.NotFound);
    expect(notFound.findDetails(ErrorDetailSchema)).toHaveLength(1);

    const invalid = ConnectError.from(await failureOf(() => client.createVirtualAccount(createRequest({ bankCode: "bca" }))));
    expect(invalid.code).toBe(Code.InvalidArgument);
    const fields = invalid
      .findDetails(ViolationsSchema)
      .flatMap((v) => v.violations.map((x) => x.field?.elements.map((e) => e.fieldName).join(".")));
    expect(fields).toContain("bank_code");

    const provider = ConnectError.from(
      await failureOf(() => client.createVirtualAccount(createRequest({ provider: "nosuchprovider" }))),
    );
    expect(provider.code).toBe(Code.InvalidArgument);
    expect(provider.findDetails(ErrorDetailSchema)[0]?.field).toBe("provider");
  });
});

/** Reads one whole HTTP/1.1 response (the request asks for `connection: close`). */
async function rawHttp1Exchange(
  port: number,
  pieces: (string | Buffer)[],
  gapMs: number,
): Promise<{ head: string; body: string }> {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await once(socket, "connect");
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  const closed = once(socket, "close");
  for (const [index, piece] of pieces.entries()) {
    if (index > 0) await sleep(gapMs);
    socket.write(piece);
  }
  await Promise.race([closed, sleep(5_000).then(() => socket.destroy(new Error("no complete answer within 5 s")))]);
  const text = Buffer.concat(received).toString("utf8");
  const split = text.indexOf("\r\n\r\n");
  const head = text.slice(0, split);
  let body = text.slice(split + 4);
  if (/^transfer-encoding:\s*chunked/im.test(head)) body = decodeChunked(body);
  return { head, body };
}

function decodeChunked(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/**
 * A TCP proxy that forwards client bytes to the gateway in separate TCP segments: the byte stream is
 * cut at `cuts` (absolute offsets), with `gapMs` between the pieces.
 */
async function startSplittingProxy(targetPort: number, cuts: number[], gapMs: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((downstream) => {
    downstream.setNoDelay(true);
    const upstream = net.connect(targetPort, "127.0.0.1");
    upstream.setNoDelay(true);
    for (const s of [downstream, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    upstream.pipe(downstream);
    upstream.on("error", () => downstream.destroy());
    downstream.on("error", () => upstream.destroy());
    downstream.on("close", () => upstream.destroy());
    upstream.on("close", () => downstream.destroy());
    let offset = 0;
    let chain = Promise.resolve();
    downstream.on("data", (chunk: Buffer) => {
      chain = chain.then(async () => {
        let rest = chunk;
        for (const cut of cuts) {
          if (cut <= offset || cut >= offset + rest.length) continue;
          const piece = rest.subarray(0, cut - offset);
          upstream.write(piece);
          offset += piece.length;
          rest = rest.subarray(piece.length);
          await sleep(gapMs);
        }
        upstream.write(rest);
        offset += rest.length;
      });
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function h2Get(url: string, path: string): Promise<{ status: number; body: string }> {
  const session = http2.connect(url);
  try {
    const request = session.request({ ":method": "GET", ":path": path });
    request.setEncoding("utf8");
    let body = "";
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    const [headers] = (await once(request, "response")) as [http2.IncomingHttpHeaders];
    await once(request, "end");
    return { status: Number(headers[":status"]), body };
  } finally {
    session.close();
  }
}

describe("HTTP/1.1 and HTTP/2 on one port", () => {
  it("a plain HTTP/1.1 fetch of /healthz and /readyz", async () => {
    const health = await fetch(`${gateway.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
  });

  it("an h2c (prior knowledge) request to /healthz on the same port", async () => {
    expect(await h2Get(gateway.url, "/healthz")).toEqual({ status: 200, body: JSON.stringify({ status: "ok" }) });
    expect((await h2Get(gateway.url, "/readyz")).status).toBe(200);
  });

  it('an HTTP/1.1 POST whose first TCP segment is only "P" gets a correct HTTP/1.1 answer', async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const { virtualAccount } = await client.createVirtualAccount(createRequest());
    const body = JSON.stringify({ virtualAccountId: virtualAccount?.id });
    const request =
      "POST /va.v1.VaService/InquiryVirtualAccount HTTP/1.1\r\n" +
      `Host: 127.0.0.1:${gateway.port}\r\n` +
      "Content-Type: application/json\r\n" +
      "Connect-Protocol-Version: 1\r\n" +
      `Authorization: Bearer ${TENANTS.alpha.apiKey}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body;
    const answer = await rawHttp1Exchange(gateway.port, [request.slice(0, 1), request.slice(1)], 150);
    expect(answer.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.head).toMatch(/^content-type: application\/json/im);
    expect(JSON.parse(answer.body)).toMatchObject({
      virtualAccount: { id: virtualAccount?.id, status: "VIRTUAL_ACCOUNT_STATUS_ACTIVE" },
    });
  });

  it('a "P" then the rest of a webhook POST also reaches the webhook route over HTTP/1.1', async () => {
    const body = "{}";
    const request =
      "POST /webhooks/sandbox HTTP/1.1\r\n" +
      `Host: 127.0.0.1:${gateway.port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    const answer = await rawHttp1Exchange(gateway.port, ["P", request.slice(1, 3), request.slice(3)], 100);
    expect(answer.head).toMatch(/^HTTP\/1\.1 401 /);
    expect(JSON.parse(answer.body)).toEqual({ error: "INVALID_SIGNATURE" });
  });

  it.each([
    { name: 'after "P"', cuts: [1] },
    { name: "in the middle of the preface", cuts: [3, 11] },
    { name: "right after the preface line, before SM", cuts: [18] },
    { name: "into single bytes for the whole preface", cuts: Array.from({ length: 24 }, (_, i) => i + 1) },
  ])("an h2c preface split $name still works (health check and a gRPC call)", async ({ cuts }) => {
    const proxy = await startSplittingProxy(gateway.port, cuts, 20);
    try {
      expect(await h2Get(proxy.url, "/healthz")).toEqual({ status: 200, body: JSON.stringify({ status: "ok" }) });
      const client = createClient(
        VaService,
        createGrpcTransport({ baseUrl: proxy.url, interceptors: [bearer(TENANTS.alpha.apiKey)] }),
      );
      const error = ConnectError.from(await failureOf(() => client.inquiryVirtualAccount({ virtualAccountId: UNKNOWN_VA_ID })));
      expect(error.code).toBe(Code.NotFound);
    } finally {
      await proxy.close();
    }
  });

  it("HTTP/1.1 through the splitting proxy (first segment just the first byte) works too", async () => {
    const proxy = await startSplittingProxy(gateway.port, [1], 50);
    try {
      const client = vaClient(proxy.url, TENANTS.alpha.apiKey, "connect");
      const error = ConnectError.from(await failureOf(() => client.inquiryVirtualAccount({ virtualAccountId: UNKNOWN_VA_ID })));
      expect(error.code).toBe(Code.NotFound);
    } finally {
      await proxy.close();
    }
  });
});

function bearer(apiKey: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${apiKey}`);
    return next(request);
  };
}

describe("CORS", () => {
  it("an OPTIONS preflight with Origin gets 204 and access-control-allow-* including authorization", async () => {
    const response = await fetch(`${gateway.url}/va.v1.VaService/CreateVirtualAccount`, {
      method: "OPTIONS",
      headers: {
        origin: "https://merchant.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, connect-protocol-version",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toMatch(/^(\*|https:\/\/merchant\.example)$/);
    expect(response.headers.get("access-control-allow-methods")?.split(/,\s*/)).toContain("POST");
    const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(["authorization", "content-type", "connect-protocol-version"]));
    expect(await response.text()).toBe("");
  });

  it("an actual cross-origin call exposes the gRPC-Web status headers", async () => {
    const response = await fetch(`${gateway.url}/va.v1.VaService/InquiryVirtualAccount`, {
      method: "POST",
      headers: {
        origin: "https://merchant.example",
        "content-type": "application/json",
        authorization: `Bearer ${TENANTS.alpha.apiKey}`,
      },
      body: JSON.stringify({ virtualAccountId: UNKNOWN_VA_ID }),
    });
    expect(response.status).toBe(404);
    expect(response.headers.get("access-control-allow-origin")).toBeTruthy();
    expect((response.headers.get("access-control-expose-headers") ?? "").toLowerCase()).toContain("grpc-status");
  });

  it("an origin that is not configured gets no access-control-allow-origin", async () => {
    const restricted = await startTestGateway({ dialect: "sqlite", config: { corsOrigins: ["https://allowed.example"] } });
    try {
      const preflight = (origin: string) =>
        fetch(`${restricted.url}/va.v1.VaService/CreateVirtualAccount`, {
          method: "OPTIONS",
          headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
        });
      const allowed = await preflight("https://allowed.example");
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://allowed.example");
      expect((allowed.headers.get("access-control-allow-headers") ?? "").toLowerCase()).toContain("authorization");
      const other = await preflight("https://evil.example");
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await restricted.stop();
    }
  });
});

describe("graceful shutdown", () => {
  it("with streams open on every protocol, close() ends them on the client and resolves within a few seconds", async () => {
    const own = await startTestGateway({ dialect: "sqlite" });
    let stopped = false;
    let grpcJs: GrpcJsVaClient | undefined;
    try {
      const alpha = vaClient(own.url, TENANTS.alpha.apiKey);
      const { virtualAccount } = await alpha.createVirtualAccount(createRequest());
      const id = virtualAccount?.id ?? "";

      type Ending = { protocol: string; outcome: string };
      const firstEvents: Promise<void>[] = [];
      const endings: Promise<Ending>[] = [];
      for (const protocol of PROTOCOLS) {
        const client = vaClient(own.url, TENANTS.alpha.apiKey, protocol);
        let gotFirst!: () => void;
        firstEvents.push(new Promise<void>((resolve) => (gotFirst = resolve)));
        endings.push(
          (async () => {
            try {
              for await (const message of client.streamPaymentEvents({ filter: { case: "virtualAccountId", value: id } })) {
                if (message.kind.case === "event") gotFirst();
              }
              return { protocol, outcome: "ended" };
            } catch (error) {
              return { protocol, outcome: `error ${Code[ConnectError.from(error).code]}` };
            }
          })(),
        );
      }
      grpcJs = await grpcJsVaClient(own.url, `Bearer ${TENANTS.alpha.apiKey}`);
      const call = grpcJs.streamPaymentEvents({ virtualAccountId: id });
      firstEvents.push(new Promise<void>((resolve) => call.once("data", () => resolve())));
      endings.push(
        new Promise<Ending>((resolve) => {
          call.on("error", (e: Error) =>
            resolve({ protocol: "grpc-js", outcome: `error ${isServiceError(e) ? e.code : e.message}` }),
          );
          call.on("end", () => resolve({ protocol: "grpc-js", outcome: "ended" }));
        }),
      );
      await Promise.all(firstEvents);
      expect(own.hub.subscriberCount).toBe(4);

      const started = Date.now();
      stopped = true;
      await own.stop();
      // Bounds far above the 1 s grace period, so a busy machine passes and a hang still fails.
      expect(Date.now() - started).toBeLessThan(15_000);

      const timeout = sleep(10_000).then(() => "hung" as const);
      const results = await Promise.all(endings.map((e) => Promise.race([e, timeout])));
      expect(results.filter((r) => r === "hung")).toEqual([]);
      expect(results.map((r) => (r === "hung" ? r : r.protocol)).sort()).toEqual(["connect", "grpc", "grpc-js", "grpc-web"]);
    } finally {
      grpcJs?.close();
      if (!stopped) await own.stop();
    }
  });

  // Regression: h1 never listens itself, so without its connection tracking closeIdleConnections()
  // was a no-op and an idle keep-alive connection held close() for the whole grace period.
  it("an idle HTTP/1.1 keep-alive connection does not hold close() for the whole grace period", async () => {
    // A grace period far above the bound below, so a busy machine's slow close is not mistaken for waiting it out.
    const own = await startTestGateway({ dialect: "sqlite", config: { shutdownGraceMs: 25_000 } });
    const agent = new http.Agent({ keepAlive: true });
    try {
      await new Promise<void>((resolve, reject) => {
        http
          .get(`${own.url}/healthz`, { agent }, (response) => {
            response.resume();
            response.on("end", () => resolve());
          })
          .on("error", reject);
      });
      const started = Date.now();
      await own.stop();
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      agent.destroy();
    }
  });

  it("close() with no traffic is quick", async () => {
    const own = await startTestGateway({ dialect: "sqlite", config: { shutdownGraceMs: 25_000 } });
    const started = Date.now();
    await own.stop();
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
