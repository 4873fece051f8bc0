import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createValidateInterceptor } from "@connectrpc/validate";
import { BankInquiries } from "./app/biller/inquiry.js";
import { CallbackIntake } from "./app/callbacks.js";
import { ExpirySweeper } from "./app/expiry.js";
import { PaymentRecorder } from "./app/payments.js";
import { ProviderRegistry } from "./app/provider-registry.js";
import { PaymentReconciler } from "./app/reconciler.js";
import { VirtualAccounts } from "./app/virtual-accounts.js";
import type { GatewayConfig } from "./config.js";
import { EventHub } from "./events/hub.js";
import { PostgresEventListener } from "./events/postgres-listener.js";
import { type AppLogger, createLogger } from "./logging.js";
import { createOperability } from "./operability/index.js";
import { type Database, openDatabase } from "./persistence/orm.js";
import { Store } from "./persistence/store.js";
import { forwardsBankInquiries } from "./providers/biller.js";
import type { ProviderCapabilities } from "./providers/capabilities.js";
import { providersFromFile } from "./providers/configured.js";
import type { VaProvider } from "./providers/provider.js";
import { createSandboxProvider } from "./providers/sandbox/adapter.js";
import { sandboxCapabilities } from "./providers/sandbox/capabilities.js";
import { sandboxKitFactories } from "./sandbox/catalog.js";
import type { SandboxKit } from "./sandbox/kit.js";
import { authenticatedTenant, createAuthInterceptor, forServices, hashApiKey } from "./transport/connect/auth.js";
import { createErrorInterceptor } from "./transport/connect/errors.js";
import { encodeProtobufStringsWithBuffer } from "./transport/connect/text-encoding.js";
import { vaServiceRoutes } from "./transport/connect/va-service.js";
import { createOnePortServer } from "./transport/http/one-port-server.js";
import { createHttpHandler } from "./transport/routes.js";
import { type SnapBiller, startSnapBiller } from "./wiring/snap-biller.js";

/** First pause before a held payment (unconfirmed or unmatched) is looked at again; doubles up to an hour. */
const HELD_PAYMENT_RETRY_MS = 30_000;

/** How long a bill quoted to a forwarded inquiry (DOKU DIPC) holds: the 5 minutes SNAP's biller flow uses. */
const FORWARDED_INQUIRY_TIMEOUT_MS = 5 * 60_000;

/** What tests and embedders may replace; production uses the defaults. */
export interface GatewayOverrides {
  clock?: () => Date;
  logger?: AppLogger;
  /** Callback retry schedule of the in-process sandbox simulator. */
  simulatorRetryDelaysMs?: number[];
  extraProviders?: { adapter: VaProvider; capabilities: ProviderCapabilities }[];
}

export interface Gateway {
  /** `http://host:port` of the one port. */
  url: string;
  port: number;
  database: Database;
  hub: EventHub;
  sweeper: ExpirySweeper;
  reconciler: PaymentReconciler;
  /** Payment callbacks: believed, confirmed or held; `reviewHeld` resolves held ones. */
  intake: CallbackIntake;
  /** Sandbox mode: each provider's adapter with its in-process simulator, by provider name. */
  sandboxKits: ReadonlyMap<string, SandboxKit>;
  /** The `snap-biller` provider, when configured (its bank simulator in sandbox mode). */
  snapBiller?: SnapBiller | undefined;
  /** Graceful: ends streams, drains connections, stops background work, closes the database. */
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const clock = overrides.clock ?? (() => new Date());
  const log = overrides.logger ?? createLogger(config.logLevel);
  const configuredProviders = config.providersFile ? providersFromFile(config.providersFile, clock) : [];
  const database = await openDatabase({
    url: config.databaseUrl,
    sqlitePath: config.sqlitePath,
    onBackgroundError: (message) => log.error({ err: message }, "SQLite checkpoint failed"),
  });
  const store = new Store(database);
  const logError = (message: string) => (err: unknown) => log.error({ err }, message);

  const hub = new EventHub(store, {
    pollIntervalMs: config.eventPollMs,
    maxQueuedPerSubscriber: 10_000,
    onError: logError("event log read failed"),
  });
  await hub.start();
  const listener = config.databaseUrl
    ? new PostgresEventListener(config.databaseUrl, () => hub.wake(), logError("event listener failed"))
    : undefined;
  await listener?.start();

  const providers = new ProviderRegistry(config.defaultProvider, config.routes);
  const virtualAccounts = new VirtualAccounts({
    store,
    providers,
    clock,
    idempotencyLeaseMs: config.idempotencyLeaseMs,
    simulationEnabled: config.sandbox,
  });
  const recorder = new PaymentRecorder(store, clock, HELD_PAYMENT_RETRY_MS);
  const intake = new CallbackIntake(store, providers, recorder, clock, {
    confirmTimeoutMs: 5_000,
    retryDelayMs: HELD_PAYMENT_RETRY_MS,
    maxRetryDelayMs: 3_600_000,
    batchSize: 200,
  });
  const sweeper = new ExpirySweeper(store, clock);
  const reconciler = new PaymentReconciler(store, providers, recorder, clock, {
    ...config.reconcile,
    batchSize: 200,
    providerTimeoutMs: 10_000,
  });

  const snapBiller = config.snapBiller
    ? await startSnapBiller(config.snapBiller, {
        store,
        clock,
        log,
        sandbox: config.sandbox,
        retryDelaysMs: overrides.simulatorRetryDelaysMs,
      })
    : undefined;
  if (snapBiller) providers.register(snapBiller.kit.provider, snapBiller.kit.capabilities);

  const ready = () => database.orm.isConnected();
  const operability = createOperability({
    log,
    tenantOf: authenticatedTenant,
    streamSubscribers: () => hub.subscriberCount,
    ready,
    sandbox: config.sandbox,
    healthPollMs: config.healthPollMs,
    heldPayments: {
      list: (filter, limit) => store.heldPayments.list(filter, limit),
      count: () => store.heldPayments.countHeld(),
      operatorKey: config.operatorKey,
    },
  });
  const vaRoutes = vaServiceRoutes({ virtualAccounts, providers, store, hub, heartbeatMs: config.heartbeatMs });

  encodeProtobufStringsWithBuffer();
  const shutdown = new AbortController();
  const connect = connectNodeAdapter({
    routes: (router) => {
      vaRoutes(router);
      operability.routes(router);
    },
    interceptors: [
      operability.interceptor,
      createErrorInterceptor(logError("rpc failed")),
      // Health and reflection are open to probes and tools; only the VA API needs a key.
      forServices(
        "va.v1.",
        createAuthInterceptor(config.apiKeys.map((k) => ({ tenantId: k.tenantId, keyHash: hashApiKey(k.apiKey) }))),
      ),
      createValidateInterceptor(),
    ],
    readMaxBytes: config.maxRequestBytes,
    writeMaxBytes: 16 << 20,
    maxTimeoutMs: 600_000,
    shutdownSignal: shutdown.signal,
  });
  const server = createOnePortServer(
    createHttpHandler({
      connect,
      webhooks: { providers, intake, log, maxBodyBytes: config.maxRequestBytes, observe: operability.observeWebhook },
      ready,
      corsOrigins: config.corsOrigins,
      getRoutes: operability.getRoutes,
      biller: snapBiller?.routes(config.maxRequestBytes),
    }),
  );
  const address = await server.listen(config.port, config.host);
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${address.port}`;
  snapBiller?.kit.attach(url);
  // Simulators need our webhook URL, which exists only now that the port is bound.
  const sandboxKits = config.sandbox ? await startSandboxKits(config, overrides, url, clock) : new Map<string, SandboxKit>();
  for (const kit of sandboxKits.values()) providers.register(kit.provider, kit.capabilities);
  const { simulatorUrl, ...sandboxCredentials } = config.sandboxProvider;
  if (config.sandbox && simulatorUrl) {
    providers.register(createSandboxProvider({ ...sandboxCredentials, baseUrl: simulatorUrl, now: clock }), sandboxCapabilities);
  }
  // Real accounts replace the sandbox kit of the same name.
  for (const configured of configuredProviders) providers.register(configured.adapter, configured.capabilities);
  for (const extra of overrides.extraProviders ?? []) providers.register(extra.adapter, extra.capabilities);
  // Providers that forward the bank's inquiry to us (DOKU DIPC) answer it with the biller's use case.
  for (const { adapter } of providers.all()) {
    if (!forwardsBankInquiries(adapter)) continue;
    const inquiries = new BankInquiries({ store, provider: adapter, log, inquiryTimeoutMs: FORWARDED_INQUIRY_TIMEOUT_MS });
    adapter.attachInquiries((inquiry) => inquiries.receive(inquiry));
  }

  const sweeping = setInterval(() => {
    operability.metrics.observeSweep(sweeper.runOnce()).catch(logError("expiry sweep failed"));
  }, config.sweepIntervalMs);
  sweeping.unref();
  const reconciling = everyInterval(
    config.sweepIntervalMs,
    async () => {
      await reconciler.runOnce();
      await intake.reviewHeld();
      await store.idempotencyKeys.deleteDoneBefore(new Date(clock().getTime() - config.idempotencyRetentionMs));
    },
    logError("reconciliation failed"),
  );
  const billerStatusPolling = snapBiller
    ? everyInterval(
        snapBiller.statusIntervalMs,
        async () => {
          await snapBiller.poller.runOnce();
        },
        logError("biller inquiry status failed"),
      )
    : undefined;

  return {
    url,
    port: address.port,
    database,
    hub,
    sweeper,
    reconciler,
    intake,
    sandboxKits,
    snapBiller,
    async close() {
      clearInterval(sweeping);
      reconciling.stop();
      billerStatusPolling?.stop();
      shutdown.abort();
      hub.stop();
      await server.close(config.shutdownGraceMs);
      await Promise.all([...sandboxKits.values()].map((kit) => kit.close()));
      await snapBiller?.close();
      await listener?.stop();
      await database.close();
      operability.close();
    },
  };
}

async function startSandboxKits(
  config: GatewayConfig,
  overrides: GatewayOverrides,
  url: string,
  now: () => Date,
): Promise<Map<string, SandboxKit>> {
  const kits = new Map<string, SandboxKit>();
  for (const [name, start] of sandboxKitFactories(config.sandboxProvider)) {
    if (name === "sandbox" && config.sandboxProvider.simulatorUrl) continue;
    kits.set(name, await start({ webhookUrl: `${url}/webhooks/${name}`, now, retryDelaysMs: overrides.simulatorRetryDelaysMs }));
  }
  return kits;
}

/** Runs `work` every `ms`, never two runs at once (a slow run delays the next instead of piling up). */
function everyInterval(ms: number, work: () => Promise<void>, onError: (error: unknown) => void): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    work()
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, ms);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
