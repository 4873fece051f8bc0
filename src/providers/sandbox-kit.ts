import type { Rupiah } from "../domain/money.js";
import type { ProviderCapabilities } from "./capabilities.js";
import type { ProviderVaRef, VaProvider } from "./provider.js";
import type { CallbackDelivery } from "./simulator-kit.js";

/**
 * A provider adapter wired to its own in-process simulator: what sandbox mode runs, and what the
 * shared contract suite tests. Each provider folder exports one factory of this shape.
 */
export interface SandboxKit {
  provider: VaProvider;
  capabilities: ProviderCapabilities;
  /** Every payment the simulator made: the provider's record of money paid. */
  payments(): { providerPaymentRef: string; amount: Rupiah }[];
  /** The last callback the simulator delivered, to send it again as a duplicate. */
  lastDelivery(): CallbackDelivery | undefined;
  /** A callback that looks like the provider's for a payment it never made (forged). */
  forgeCallback(va: ProviderVaRef, amount: Rupiah): CallbackDelivery;
  /** Where supported: stop sending callbacks (payments still happen), to simulate lost callbacks. */
  muteCallbacks?(muted: boolean): void;
  /** Resolves once every callback is acknowledged or out of retries. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface SandboxKitOptions {
  /** Our webhook root for this provider, e.g. `http://127.0.0.1:8080/webhooks/winpay`. */
  webhookUrl: string;
  now: () => Date;
  /** Callback retry pauses of the simulator (tests shorten them). */
  retryDelaysMs?: number[];
}

export type SandboxKitFactory = (options: SandboxKitOptions) => Promise<SandboxKit>;
