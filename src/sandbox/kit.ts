import type { Rupiah } from "../domain/money.js";
import type { ProviderCapabilities } from "../providers/capabilities.js";
import type { ProviderVaRef, VaProvider } from "../providers/provider.js";
import type { CallbackDelivery } from "./simulator-kit.js";

/**
 * A provider adapter wired to its own in-process simulator: what sandbox mode runs, and what the
 * shared contract suite tests. Each `sandbox/<provider>/kit.ts` exports one factory of this shape.
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
  /** The provider's documented misbehaviours as switches; the misbehaviour matrix drives them. */
  misbehaviour: ProviderMisbehaviour;
  /** Resolves once every callback is acknowledged or out of retries. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What real providers do that a happy path never shows. Each switch behaves as the provider
 * documents it (or, where its docs are silent, as the kit's comment says and why).
 */
export interface ProviderMisbehaviour {
  /**
   * Keeps callbacks instead of sending them (payments still happen): a callback lost, or one the
   * provider will send late. `deliverHeldCallbacks` sends each once, exactly as first built: with
   * its original timestamp, signature and request id, as a provider's late retry carries them.
   */
  holdCallbacks(held: boolean): void;
  deliverHeldCallbacks(): Promise<{ status: number; body: string }[]>;
  /** The next create makes the VA at the provider, then its answer is lost (the connection drops). */
  loseNextCreateAnswer(): void;
  /**
   * The next create makes the VA and a payment of `amount` to it, and sends that payment's callback
   * (waiting for our answer) before it answers the create.
   */
  payBeforeNextCreateAnswer(amount: Rupiah): void;
  /**
   * The next create is given this number again (the provider reissues a number after expiry or
   * cancel). Absent where the provider never reissues numbers; the kit says why.
   */
  reissueNumberOnNextCreate?(vaNumber: string): void;
  /**
   * Pays the VA an amount other than its bill, the way the provider documents it can happen (e.g.
   * Ayoconnect's partial payment of 12500.00 against 25000.00); resolves what was paid.
   */
  payOtherThanBill(va: ProviderVaRef, bill: Rupiah): Promise<{ providerPaymentRef: string; amount: Rupiah }>;
}

export interface SandboxKitOptions {
  /** Our webhook root for this provider, e.g. `http://127.0.0.1:8080/webhooks/winpay`. */
  webhookUrl: string;
  now: () => Date;
  /** Callback retry pauses of the simulator (tests shorten them). */
  retryDelaysMs?: number[];
}

export type SandboxKitFactory = (options: SandboxKitOptions) => Promise<SandboxKit>;
