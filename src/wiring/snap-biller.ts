import { BillerService, BillerStatusPoller } from "../app/biller.js";
import type { Logger } from "../logging.js";
import type { Store } from "../persistence/store.js";
import type { SnapBillerSettings } from "../providers/snap-biller/settings.js";
import { createSnapBiller } from "../providers/snap-biller/setup.js";
import { type SnapBillerKit, startSnapBillerKit } from "../sandbox/snap-biller/kit.js";
import type { BillerRouteDeps } from "../transport/biller-routes.js";

/** What the gateway holds of the `snap-biller` provider when it is configured. */
export interface SnapBiller {
  /** The adapter; in sandbox mode without a bank key, also the bank simulator that plays the bank. */
  kit: Omit<SnapBillerKit, "bankSimulator"> & { bankSimulator: SnapBillerKit["bankSimulator"] | undefined };
  service: BillerService;
  /** Inquiry Status (26) for inquiries whose payment never reached us; the gateway runs it periodically. */
  poller: BillerStatusPoller;
  statusIntervalMs: number;
  routes(maxBodyBytes: number): BillerRouteDeps;
  close(): Promise<void>;
}

export async function startSnapBiller(
  settings: SnapBillerSettings,
  options: { store: Store; clock: () => Date; log: Logger; sandbox: boolean; retryDelaysMs?: number[] | undefined },
): Promise<SnapBiller> {
  const { store, clock, log } = options;
  const kit: SnapBiller["kit"] =
    settings.bankPublicKey || !options.sandbox
      ? { ...createSnapBiller(settings, clock), bankSimulator: undefined, attach() {}, close: async () => {} }
      : await startSnapBillerKit(settings, { now: clock, paymentRetryDelaysMs: options.retryDelaysMs });
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
