import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { PROVIDER_CALL_CHANNEL, type ProviderCallReport } from "../providers/shared/http.js";

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the metrics read from the running gateway when Prometheus scrapes. */
export interface MetricsSources {
  /** Open `StreamPaymentEvents` subscriptions of this process. */
  streamSubscribers(): number;
  /** Payments held for confirmation or matching (shared by every replica: read from the database). */
  heldPayments(): Promise<{ provider: string; reason: string; count: number }[]>;
}

/**
 * Every Prometheus metric of one gateway, in its own registry (several gateways can share a
 * process in tests). RPC names follow go-grpc-prometheus (`grpc_server_*`, labels `grpc_service`,
 * `grpc_method`, `grpc_type`, `grpc_code`) so existing gRPC dashboards work unchanged. Provider
 * calls arrive through a process-wide diagnostics channel (src/providers/http.ts knows nothing of
 * metrics), so two gateways in one process would each count both's calls — only tests do that.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly rpcStarted = new Counter({
    name: "grpc_server_started_total",
    help: "RPCs started on the server.",
    labelNames: ["grpc_service", "grpc_method", "grpc_type"] as const,
    registers: [this.registry],
  });
  readonly rpcHandled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, by status code (streams count when they end).",
    labelNames: ["grpc_service", "grpc_method", "grpc_type", "grpc_code"] as const,
    registers: [this.registry],
  });
  readonly rpcSeconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from the request to the last response message (streams: their whole life).",
    labelNames: ["grpc_service", "grpc_method", "grpc_type"] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly providerSeconds = new Histogram({
    name: "va_provider_request_duration_seconds",
    help: "Outbound provider API calls by outcome (HTTP status class, timeout or unreachable).",
    labelNames: ["provider", "method", "outcome"] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly providerErrors = new Counter({
    name: "va_provider_request_errors_total",
    help: "Outbound provider API calls that timed out, could not connect, or answered 5xx.",
    labelNames: ["provider", "kind"] as const,
    registers: [this.registry],
  });
  readonly webhookCallbacks = new Counter({
    name: "va_webhook_callbacks_total",
    help: "Provider callbacks received: verified (signature and shape accepted), rejected, unknown_provider, too_large.",
    labelNames: ["provider", "result"] as const,
    registers: [this.registry],
  });
  readonly paymentsRecorded = new Counter({
    name: "va_webhook_payments_total",
    help: "What verified callbacks did: the recorder's result (recorded, duplicate, …) or failed.",
    labelNames: ["provider", "result"] as const,
    registers: [this.registry],
  });
  readonly sweeperRuns = new Counter({
    name: "va_sweeper_runs_total",
    help: "Expiry sweeper runs, by result (ok, failed).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly sweeperExpired = new Counter({
    name: "va_sweeper_expired_total",
    help: "Virtual accounts the expiry sweeper closed.",
    registers: [this.registry],
  });

  private readonly onProviderCall = (message: unknown) => this.observeProviderCall(message as ProviderCallReport);

  constructor(sources: MetricsSources) {
    new Gauge({
      name: "va_stream_subscribers",
      help: "Open StreamPaymentEvents streams on this process.",
      registers: [this.registry],
      collect() {
        this.set(sources.streamSubscribers());
      },
    });
    new Gauge({
      name: "va_held_payments",
      help: "Payments providers reported that are not on a VA yet: UNCONFIRMED (awaiting the provider's confirmation) or UNMATCHED (no VA matches). Alert when it stays above 0.",
      labelNames: ["provider", "reason"] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { provider, reason, count } of await sources.heldPayments()) this.set({ provider, reason }, count);
      },
    });
    collectDefaultMetrics({ register: this.registry });
    subscribe(PROVIDER_CALL_CHANNEL, this.onProviderCall);
  }

  /** Counts one expiry sweep; pass the sweep's promise. */
  observeSweep(run: Promise<number>): Promise<number> {
    return run.then(
      (expired) => {
        this.sweeperRuns.inc({ result: "ok" });
        this.sweeperExpired.inc(expired);
        return expired;
      },
      (error: unknown) => {
        this.sweeperRuns.inc({ result: "failed" });
        throw error;
      },
    );
  }

  /** Prometheus text exposition. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  close(): void {
    unsubscribe(PROVIDER_CALL_CHANNEL, this.onProviderCall);
  }

  private observeProviderCall(call: ProviderCallReport): void {
    const outcome = call.failure ?? `${Math.floor((call.status ?? 0) / 100)}xx`;
    this.providerSeconds.observe({ provider: call.provider, method: call.method, outcome }, call.durationMs / 1000);
    if (call.failure) this.providerErrors.inc({ provider: call.provider, kind: call.failure });
    else if ((call.status ?? 0) >= 500) this.providerErrors.inc({ provider: call.provider, kind: "http_5xx" });
  }
}
