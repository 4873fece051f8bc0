import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { vaClient } from "../support/clients.js";
import { startTestGateway, TENANTS, type TestGateway } from "../support/gateway.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUF = `${ROOT}node_modules/.bin/buf`;

/** `buf curl` with no schema flags: it learns the API from the server's reflection service. */
async function bufCurl(args: string[]): Promise<string> {
  const { stdout } = await run(BUF, ["curl", ...args], { cwd: ROOT, timeout: 20_000 });
  return stdout;
}

const healthClient = (url: string) => createClient(Health, createGrpcTransport({ baseUrl: url }));

describe("gRPC server reflection and health", { timeout: 60_000 }, () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ dialect: "sqlite", config: { healthPollMs: 50 } });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it.each([
    { protocol: "grpc-v1", via: "gRPC over h2c", flags: ["--protocol", "grpc", "--http2-prior-knowledge"] },
    { protocol: "grpc-v1alpha", via: "gRPC over h2c", flags: ["--protocol", "grpc", "--http2-prior-knowledge"] },
    { protocol: "grpc-v1", via: "buf curl's defaults (Connect)", flags: [] },
  ])("buf curl lists every service through $protocol reflection, $via, without .proto files", async ({ protocol, flags }) => {
    const services = await bufCurl([...flags, "--reflect-protocol", protocol, "--list-services", gateway.url]);
    expect(services.trim().split("\n").sort()).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "va.v1.VaService",
    ]);
    const methods = await bufCurl([...flags, "--reflect-protocol", protocol, "--list-methods", gateway.url]);
    expect(methods).toContain("va.v1.VaService/CreateVirtualAccount");
    expect(methods).toContain("va.v1.VaService/StreamPaymentEvents");
    expect(gateway.logs.filter((line) => line.includes('"level":50'))).toEqual([]);
  });

  it("buf curl calls the VA service with the schema from reflection (gRPC and Connect)", async () => {
    const body = {
      idempotencyKey: "reflect-1",
      merchantReference: "reflect-order-1",
      bankCode: "BCA",
      usage: "VA_USAGE_SINGLE",
      amount: { fixed: { amount: "25000" } },
      customer: { name: "Budi Santoso" },
    };
    const auth = ["-H", `authorization: Bearer ${TENANTS.alpha.apiKey}`];
    const created = JSON.parse(
      await bufCurl([
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        ...auth,
        "-d",
        JSON.stringify(body),
        `${gateway.url}/va.v1.VaService/CreateVirtualAccount`,
      ]),
    );
    expect(created.virtualAccount.status).toBe("VIRTUAL_ACCOUNT_STATUS_ACTIVE");
    expect(created.virtualAccount.vaNumber).toMatch(/^[0-9]+$/);
    const inquired = JSON.parse(
      await bufCurl([
        ...auth,
        "-d",
        JSON.stringify({ virtualAccountId: created.virtualAccount.id }),
        `${gateway.url}/va.v1.VaService/InquiryVirtualAccount`,
      ]),
    );
    expect(inquired.virtualAccount.vaNumber).toBe(created.virtualAccount.vaNumber);
  });

  it("health Check needs no API key and reports SERVING for the server and va.v1.VaService", async () => {
    const health = healthClient(gateway.url);
    expect((await health.check({ service: "" })).status).toBe(Status.SERVING);
    expect((await health.check({ service: "va.v1.VaService" })).status).toBe(Status.SERVING);
    const unknown = await health.check({ service: "no.such.Service" }).catch((e: unknown) => ConnectError.from(e));
    expect(unknown).toBeInstanceOf(ConnectError);
    expect((unknown as ConnectError).code).toBe(Code.NotFound);
    // …while the VA API itself still requires one.
    const anonymous = await vaClient(gateway.url, undefined, "grpc")
      .inquiryVirtualAccount({ virtualAccountId: `va_${"0".repeat(32)}` })
      .catch((e: unknown) => ConnectError.from(e));
    expect((anonymous as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it("health Watch sends SERVICE_UNKNOWN for an unknown name and keeps the stream open", async () => {
    const abort = new AbortController();
    const statuses: Status[] = [];
    try {
      for await (const message of healthClient(gateway.url).watch({ service: "no.such.Service" }, { signal: abort.signal })) {
        statuses.push(message.status);
        break;
      }
    } finally {
      abort.abort();
    }
    expect(statuses).toEqual([Status.SERVICE_UNKNOWN]);
  });
});

describe("gRPC health follows the database", () => {
  it("Watch goes SERVING → NOT_SERVING when the database stops answering, and Check agrees", async () => {
    const gateway = await startTestGateway({ dialect: "sqlite", config: { healthPollMs: 50 } });
    const health = healthClient(gateway.url);
    const abort = new AbortController();
    const seen: Status[] = [];
    try {
      for await (const message of health.watch({ service: "va.v1.VaService" }, { signal: abort.signal, timeoutMs: 15_000 })) {
        seen.push(message.status);
        if (message.status === Status.SERVING) await gateway.database.close();
        if (message.status === Status.NOT_SERVING) break;
      }
      expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
      expect((await health.check({ service: "" })).status).toBe(Status.NOT_SERVING);
      expect((await fetch(`${gateway.url}/readyz`)).status).toBe(503);
    } finally {
      abort.abort();
      await gateway.stop();
    }
  });
});
