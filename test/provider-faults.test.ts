import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema } from "../src/gen/va/v1/va_pb.js";
import { type SandboxSimulator, startSandboxSimulator } from "../src/sandbox/sandbox/simulator.js";
import { vaClient } from "./support/clients.js";
import { createRequest, rejection } from "./support/fixtures.js";
import { SANDBOX_SECRETS, startTestGateway, TENANTS, type TestGateway } from "./support/gateway.js";

type Fault = "none" | "503" | "malformed" | "slow";

/** Sits between the gateway and the sandbox simulator and misbehaves on demand. */
async function startFaultyProxy(target: string) {
  const state = { fault: "none" as Fault, seen: [] as { method: string; path: string }[], aborted: 0 };
  const server: Server = createServer(async (req, res) => {
    state.seen.push({ method: req.method ?? "", path: req.url ?? "" });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (state.fault === "503") {
      res.writeHead(503, { "content-type": "text/plain" }).end("upstream maintenance window");
      return;
    }
    if (state.fault === "malformed") {
      res.writeHead(200, { "content-type": "application/json" }).end("{not json");
      return;
    }
    if (state.fault === "slow") {
      res.on("close", () => {
        if (!res.writableEnded) state.aborted++;
      });
      await new Promise((r) => setTimeout(r, 3_000));
      if (res.destroyed) return;
    }
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers: { "content-type": "application/json", authorization: req.headers.authorization ?? "" },
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(await upstream.text());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("provider faults reach callers as clear errors", () => {
  let simulator: SandboxSimulator;
  let proxy: Awaited<ReturnType<typeof startFaultyProxy>>;
  let gateway: TestGateway;
  let client: ReturnType<typeof vaClient>;

  beforeAll(async () => {
    simulator = await startSandboxSimulator({ ...SANDBOX_SECRETS, retryDelaysMs: [50] });
    proxy = await startFaultyProxy(simulator.url);
    gateway = await startTestGateway({
      dialect: "sqlite",
      config: { sandboxProvider: { ...SANDBOX_SECRETS, simulatorUrl: proxy.url } },
    });
    client = vaClient(gateway.url, TENANTS.alpha.apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
    await proxy?.close();
    await simulator?.close();
  });

  it("a 5xx answer is UNAVAILABLE with the provider's raw answer in the details, and a create is not retried", async () => {
    proxy.state.fault = "503";
    proxy.state.seen = [];
    const error = await rejection(client.createVirtualAccount(createRequest({ provider: "sandbox" })));
    expect(error.code).toBe(14);
    expect(error.findDetails(ErrorDetailSchema)[0]).toMatchObject({
      provider: "sandbox",
      providerCode: "503",
      providerMessage: "upstream maintenance window",
    });
    expect(proxy.state.seen.filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("a malformed answer is UNAVAILABLE, never INTERNAL", async () => {
    proxy.state.fault = "malformed";
    const error = await rejection(client.createVirtualAccount(createRequest({ provider: "sandbox" })));
    expect(error.code).toBe(14);
  });

  it("the caller's deadline reaches the provider call: DEADLINE_EXCEEDED, and the outbound request is cut", async () => {
    proxy.state.fault = "slow";
    proxy.state.aborted = 0;
    const error = await rejection(client.createVirtualAccount(createRequest({ provider: "sandbox" }), { timeoutMs: 300 }));
    expect(error.code).toBe(4);
    await expect.poll(() => proxy.state.aborted, { timeout: 20_000 }).toBe(1);
  });

  it("reads are retried with backoff on 5xx (three attempts); creates never are", async () => {
    proxy.state.fault = "none";
    const expiresAt = timestampFromDate(new Date(Date.now() + 5 * 60_000));
    const { virtualAccount } = await client.createVirtualAccount(createRequest({ provider: "sandbox", expiresAt }));
    proxy.state.fault = "503";
    proxy.state.seen = [];
    await gateway.reconciler.runOnce();
    const reads = proxy.state.seen.filter((r) => r.method === "GET" && r.path.includes(virtualAccount?.providerReference ?? "?"));
    expect(reads).toHaveLength(3);
  });
});
