import type { ConnectRouter } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";

export interface HealthDeps {
  /** True when the database answers. */
  ready: () => Promise<boolean>;
  /** Service names with a status: "" (the whole server) and every served service. */
  services: readonly string[];
  /** How often `Watch` re-checks the database. */
  pollMs: number;
  /** A check that takes longer than this counts as NOT_SERVING. */
  probeTimeoutMs?: number;
}

/**
 * `grpc.health.v1.Health` (https://github.com/grpc/grpc/blob/master/doc/health-checking.md): every
 * known service is SERVING exactly when the database answers, since nothing works without it.
 * Unknown names: `Check` fails with NOT_FOUND, `Watch` sends SERVICE_UNKNOWN and stays open.
 */
export function healthRoutes(deps: HealthDeps) {
  const probe = async (): Promise<Status> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), deps.probeTimeoutMs ?? 2_000);
    });
    try {
      const ok = await Promise.race([deps.ready().catch(() => false), timedOut]);
      return ok ? Status.SERVING : Status.NOT_SERVING;
    } finally {
      clearTimeout(timer);
    }
  };
  const known = (service: string) => deps.services.includes(service);

  return (router: ConnectRouter) =>
    router.service(Health, {
      async check(request) {
        if (!known(request.service)) throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
        return { status: await probe() };
      },

      async *watch(request, context) {
        if (!known(request.service)) {
          yield { status: Status.SERVICE_UNKNOWN };
          await pause(Number.POSITIVE_INFINITY, context.signal);
          return;
        }
        let last: Status | undefined;
        while (!context.signal.aborted) {
          const status = await probe();
          if (status !== last) {
            last = status;
            yield { status };
          }
          await pause(deps.pollMs, context.signal);
        }
      },
    });
}

/** Resolves after `ms` or as soon as `signal` aborts (a generator waiting here still sees a hang-up). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    signal.addEventListener("abort", done, { once: true });
  });
}
