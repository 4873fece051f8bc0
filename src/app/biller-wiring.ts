import type { Store } from "../persistence/store.js";
import { type SnapBillerKit, startSnapBillerKit } from "../providers/snap-biller/setup.js";
import type { SnapBillerSettings } from "../providers/snap-biller/settings.js";
import type { BillerRouteDeps } from "../transport/biller-routes.js";
import { type BillerLog, BillerService, BillerStatusPoller } from "./biller.js";

/** What the gateway holds of the `snap-biller` provider when it is configured. */
export interface SnapBiller {
  kit: SnapBillerKit;
  service: BillerService;
  /** Inquiry Status (26) for inquiries whose payment never reached us; the gateway runs it periodically. */
  poller: BillerStatusPoller;
  statusIntervalMs: number;
  routes(maxBodyBytes: number): BillerRouteDeps;
  close(): Promise<void>;
}

export async function startSnapBiller(
  settings: SnapBillerSettings,
  options: { store: Store; clock: () => Date; log: BillerLog; sandbox: boolean; retryDelaysMs?: number[] },
): Promise<SnapBiller> {
  const { store, clock, log } = options;
  const kit = await startSnapBillerKit(settings, {
    sandbox: options.sandbox,
    now: clock,
    paymentRetryDelaysMs: options.retryDelaysMs,
  });
  const service = new BillerService({ store, provider: kit.provider, clock, log, inquiryTimeoutMs: settings.inquiryTimeoutMs });
  const poller = new BillerStatusPoller({ store, provider: kit.provider, clock, log });
  return {
    kit,
    service,
    poller,
    statusIntervalMs: settings.statusIntervalMs,
    routes: (maxBodyBytes) => ({ service, log, clock, maxBodyBytes }),
    close: () => kit.close(),
  };
}
