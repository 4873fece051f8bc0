import type { ConnectRouter, ContextValues, Interceptor } from "@connectrpc/connect";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { VaService } from "../gen/va/v1/va_pb.js";
import type { Logger } from "../logging.js";
import type { PlainRoute } from "../transport/http/plain-route.js";
import { healthRoutes } from "./health.js";
import { type HeldPaymentsDeps, heldPaymentsRoute } from "./held-payments.js";
import { GatewayMetrics, type MetricsSources } from "./metrics.js";
import { reflectionRoutes } from "./reflection.js";
import { createObservingInterceptor } from "./rpc-observer.js";
import { createTracingInterceptor } from "./rpc-tracing.js";
import { webConsoleRoutes } from "./web-console.js";

export interface OperabilityDeps {
  log: Logger;
  /** The tenant the auth interceptor established for a call, if any (for its log line). */
  tenantOf: (values: ContextValues) => string | undefined;
  /** Open event-stream subscriptions (the event hub's `subscriberCount`). */
  streamSubscribers: () => number;
  /** True when the database answers. */
  ready: () => Promise<boolean>;
  /** Sandbox mode also serves the demo page at `/`. */
  sandbox: boolean;
  healthPollMs: number;
  /** Payments held for confirmation or matching: the operator route and the gauge. */
  heldPayments: HeldPaymentsDeps & { count: MetricsSources["heldPayments"] };
}

/**
 * Everything that makes the gateway observable and reachable by tools, wired in one place:
 * metrics (`GET /metrics`), the per-RPC trace/request-id/metrics/log interceptor, gRPC health and
 * reflection services, and in sandbox mode the Connect-Web demo page.
 */
export function createOperability(deps: OperabilityDeps) {
  const metrics = new GatewayMetrics({ streamSubscribers: deps.streamSubscribers, heldPayments: deps.heldPayments.count });
  const metricsRoute: PlainRoute = {
    path: "/metrics",
    handle(_request, response) {
      metrics.exposition().then(
        ({ contentType, body }) => {
          if (response.headersSent || response.destroyed) return;
          response.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
          response.end(body);
        },
        (error: unknown) => {
          deps.log.error({ err: error }, "metrics exposition failed");
          if (!response.headersSent) response.writeHead(500).end();
        },
      );
    },
  };
  const health = healthRoutes({ ready: deps.ready, services: ["", VaService.typeName], pollMs: deps.healthPollMs });
  const reflection = reflectionRoutes([VaService, Health]);
  const tracing = createTracingInterceptor();
  const observing = createObservingInterceptor(metrics, deps.log, deps.tenantOf);

  return {
    metrics,
    /**
     * Put first in the interceptor list: it must see every call and the final error codes. The
     * trace span encloses the rest, so the RPC's own log line carries its trace id.
     */
    interceptor: ((next) => tracing(observing(next))) satisfies Interceptor,
    /** `grpc.health.v1.Health`, `grpc.reflection.v1(alpha).ServerReflection`. */
    routes(router: ConnectRouter): void {
      health(router);
      reflection(router);
    },
    getRoutes: [
      metricsRoute,
      heldPaymentsRoute(deps.heldPayments),
      ...(deps.sandbox ? webConsoleRoutes() : []),
    ] as readonly PlainRoute[],
    /** Counts a webhook callback as the webhook route reports it (`WebhookOutcome`). */
    observeWebhook(outcome: { provider: string; result: string; recorded?: string | undefined }): void {
      metrics.webhookCallbacks.inc({ provider: outcome.provider, result: outcome.result });
      if (outcome.recorded) metrics.paymentsRecorded.inc({ provider: outcome.provider, result: outcome.recorded });
    },
    close(): void {
      metrics.close();
    },
  };
}
