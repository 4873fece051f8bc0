import { BankInquiries } from "../app/biller/inquiry.js";
import { BankPayments } from "../app/biller/payment.js";
import { BillerStatusPoller } from "../app/biller/status-poller.js";
import { PaymentRecorder } from "../app/payments.js";
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
  const { provider } = kit;
  const recorder = new PaymentRecorder(store, clock);
  const inquiries = new BankInquiries({ store, provider, log, inquiryTimeoutMs: settings.inquiryTimeoutMs });
  const payments = new BankPayments({ store, recorder, provider, log });
  const poller = new BillerStatusPoller({ store, recorder, provider, clock, log });
  return {
    kit,
    poller,
    statusIntervalMs: settings.statusIntervalMs,
    routes: (maxBodyBytes) => ({ provider, inquiries, payments, log, clock, maxBodyBytes }),
    close: () => kit.close(),
  };
}
