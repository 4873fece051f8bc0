/**
 * One server under test, run as its own process so that its CPU profile and RSS are its own.
 * `tsx bench/server.ts <mode>` (spawned by bench/run.ts with an IPC channel):
 *
 * - `grpc-echo`    bare @grpc/grpc-js server, unary echo (anchor)
 * - `connect-echo` bare @connectrpc/connect-node: `http2.createServer(connectNodeAdapter(…))` (anchor)
 * - `gateway`      the real service via `startGateway(configFromEnv())` (env: DATABASE_URL / SQLITE_PATH, …)
 *
 * It answers IPC requests `{ rid, cmd: "seed" | "stats" | "stop" }` with `{ rid, … }`.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { configFromEnv } from "../src/config.js";
import { newId } from "../src/domain/ids.js";
import type { VirtualAccount } from "../src/domain/virtual-account.js";
import { type Gateway, startGateway } from "../src/gateway.js";
import { Store } from "../src/persistence/store.js";
import { decodeEcho, ECHO_PATH, type EchoMessage, EchoService, encodeEcho } from "./echo.js";
import type { SeededVa, ServerReply, ServerRequest } from "./protocol.js";

type Mode = "grpc-echo" | "connect-echo" | "gateway";

interface Running {
  url: string;
  close(): Promise<void>;
  gateway?: Gateway;
}

async function startGrpcEcho(): Promise<Running> {
  const server = new grpc.Server();
  const definition: grpc.ServiceDefinition = {
    echo: {
      path: ECHO_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: EchoMessage) => Buffer.from(encodeEcho(value.message)),
      requestDeserialize: (bytes: Buffer) => decodeEcho(bytes),
      responseSerialize: (value: EchoMessage) => Buffer.from(encodeEcho(value.message)),
      responseDeserialize: (bytes: Buffer) => decodeEcho(bytes),
    },
  };
  server.addService(definition, {
    echo: (call: grpc.ServerUnaryCall<EchoMessage, EchoMessage>, callback: grpc.sendUnaryData<EchoMessage>) => {
      callback(null, { message: call.request.message });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

async function startConnectEcho(): Promise<Running> {
  const handler = connectNodeAdapter({
    routes: (router) => {
      const method = EchoService.methods[0];
      if (!method) throw new Error("echo method missing");
      const echo = async (request: EchoMessage): Promise<EchoMessage> => ({ message: request.message });
      // The method comes from a runtime registry, so its types are generic: the impl type is `never`.
      router.rpc(method, echo as never);
    },
  });
  const server = http2.createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function startServiceGateway(): Promise<Running> {
  const config = { ...configFromEnv(process.env), host: "127.0.0.1", port: 0 };
  const gateway = await startGateway(config);
  return { url: gateway.url, close: () => gateway.close(), gateway };
}

/**
 * Inserts `count` open multi-use sandbox VAs (and their CREATED events) straight into the database,
 * as a create would have left them: 10k creates through the provider would take most of the time
 * budget and are measured separately.
 */
let seedCounter = 0;
const seedRun = String(1000 + (randomBytes(2).readUInt16BE(0) % 9000));
async function seed(gateway: Gateway, tenantId: string, merchantId: string, count: number): Promise<SeededVa[]> {
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 24 * 3600_000);
  const seeded: SeededVa[] = [];
  const batch = 200;
  for (let start = 0; start < count; start += batch) {
    const vas: VirtualAccount[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const n = seedCounter++;
      vas.push({
        id: newId("va"),
        tenantId,
        merchantReference: `bench-${seedRun}-${n}`,
        provider: "sandbox",
        providerAccount: merchantId,
        providerReference: `sbva_${randomBytes(12).toString("hex")}`,
        providerVaId: undefined,
        bankCode: "BNI",
        vaNumber: `8808${seedRun}${String(n).padStart(8, "0")}`,
        usage: "MULTI",
        amount: { type: "OPEN" },
        status: "ACTIVE",
        expiresAt,
        customer: { name: "Bench Subscriber", email: "", phone: "" },
        description: "",
        paidAmount: 0n,
        paymentCount: 0,
        createdAt: now,
        updatedAt: now,
      });
    }
    // Through the service's own store: `em.transactional()` would switch on Node's promise hooks
    // (AsyncLocalStorage) for the rest of the process, a cost the service itself never pays.
    await new Store(gateway.database).transaction(async (tx) => {
      for (const va of vas) {
        await tx.virtualAccounts.insert(va);
        await tx.events.append({
          tenantId,
          type: "VIRTUAL_ACCOUNT_CREATED",
          cause: "RPC",
          occurredAt: now,
          virtualAccount: va,
          payment: undefined,
        });
      }
    });
    for (const va of vas) seeded.push({ id: va.id, vaNumber: va.vaNumber, providerReference: va.providerReference });
  }
  gateway.hub.wake();
  return seeded;
}

/** The newest event's sequence: a cursor after everything seeded so far. */
async function lastCursor(gateway: Gateway): Promise<string> {
  return String(await new Store(gateway.database).events.lastSequence());
}

async function main(): Promise<void> {
  const mode = process.argv[2] as Mode;
  const send = (reply: ServerReply) => process.send?.(reply);
  let running: Running;
  switch (mode) {
    case "grpc-echo":
      running = await startGrpcEcho();
      break;
    case "connect-echo":
      running = await startConnectEcho();
      break;
    case "gateway":
      running = await startServiceGateway();
      break;
    default:
      throw new Error(`unknown mode ${String(mode)}`);
  }
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  let gcPauses = { max: 0, total: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcPauses = { max: Math.max(gcPauses.max, entry.duration), total: gcPauses.total + entry.duration };
    }
  }).observe({ entryTypes: ["gc"] });
  process.on("message", (message: ServerRequest) => {
    const reply = async (): Promise<ServerReply> => {
      switch (message.cmd) {
        case "seed": {
          if (!running.gateway) throw new Error("seed needs the gateway");
          const vas = await seed(running.gateway, message.tenantId, message.merchantId, message.count);
          return { rid: message.rid, ok: true, vas, cursor: await lastCursor(running.gateway) };
        }
        case "stats": {
          const delay = {
            loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
            loopDelayMaxMs: loopDelay.max / 1e6,
            gcPauseMaxMs: gcPauses.max,
            gcPauseTotalMs: gcPauses.total,
          };
          loopDelay.reset();
          gcPauses = { max: 0, total: 0 };
          return {
            rid: message.rid,
            ok: true,
            rss: process.memoryUsage.rss(),
            heapUsed: process.memoryUsage().heapUsed,
            subscribers: running.gateway?.hub.subscriberCount ?? 0,
            ...delay,
          };
        }
        case "stop":
          await Promise.race([running.close(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
          return { rid: message.rid, ok: true };
      }
    };
    reply().then(
      (answer) => {
        send(answer);
        // Exit normally (not by signal) so that --cpu-prof writes its profile.
        if (message.cmd === "stop") setTimeout(() => process.exit(0), 50);
      },
      (error: unknown) => send({ rid: message.rid, ok: false, error: String((error as Error)?.stack ?? error) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
  send({ rid: 0, ok: true, ready: true, url: running.url, pid: process.pid });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
