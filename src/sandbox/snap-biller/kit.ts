import { generateKeyPairSync } from "node:crypto";
import { DomainError } from "../../domain/errors.js";
import type { ProviderCapabilities } from "../../providers/capabilities.js";
import type { SnapBillerProvider } from "../../providers/snap-biller/adapter.js";
import type { SnapBillerSettings } from "../../providers/snap-biller/settings.js";
import { createSnapBiller } from "../../providers/snap-biller/setup.js";
import { SNAP_BILLER } from "../../providers/snap-biller/wire.js";
import { type BankSimulator, startBankSimulator } from "./bank.js";

export interface SnapBillerKit {
  provider: SnapBillerProvider;
  capabilities: ProviderCapabilities;
  /** The in-process bank that calls us and answers our status queries. */
  bankSimulator: BankSimulator;
  /** Tells the bank simulator where we listen (known once the port is bound). */
  attach(gatewayUrl: string): void;
  close(): Promise<void>;
}

const rsaPems = () =>
  generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });

/**
 * The `snap-biller` adapter for sandbox mode without a bank key: both key pairs are generated and an
 * in-process bank simulator plays the bank, also for `SimulatePayment`.
 */
export async function startSnapBillerKit(
  settings: SnapBillerSettings,
  options: { now: () => Date; paymentRetryDelaysMs?: number[] | undefined },
): Promise<SnapBillerKit> {
  const bankKeys = rsaPems();
  const ourKeys = rsaPems();
  const partnerId = settings.partnerId || "VA-GATEWAY";
  const bankSimulator = await startBankSimulator({
    partnerId: settings.bankPartnerId,
    privateKey: bankKeys.privateKey,
    clientSecret: settings.bankClientSecret,
    billerPartnerServiceId: settings.partnerServiceId,
    signedPathPrefix: settings.publicPathPrefix,
    billerPartnerId: partnerId,
    billerPublicKey: ourKeys.publicKey,
    paymentRetryDelaysMs: options.paymentRetryDelaysMs,
    now: options.now,
  });
  const { provider, capabilities } = createSnapBiller(settings, options.now, {
    bankPublicKey: bankKeys.publicKey,
    bank: {
      baseUrl: bankSimulator.url,
      partnerId,
      privateKey: ourKeys.privateKey,
      channelId: settings.channelId,
      createVaPath: settings.bankCreateVaPath,
    },
    simulatePayment: async (vaNumber, amount) => {
      const transfer = await bankSimulator.transfer(vaNumber, { amount });
      if (transfer.state === "COMPLETED") return { providerPaymentRef: transfer.inquiryRequestId };
      const refusal = transfer.payments.at(-1) ?? transfer.inquiry;
      const message = typeof refusal.json?.responseMessage === "string" ? refusal.json.responseMessage : "";
      throw new DomainError("FAILED_PRECONDITION", `the bank could not pay: ${refusal.responseCode ?? "no answer"} ${message}`, {
        provider: SNAP_BILLER,
        providerCode: refusal.responseCode,
        providerMessage: message,
      });
    },
  });
  return {
    provider,
    capabilities,
    bankSimulator,
    attach: (gatewayUrl) => bankSimulator.setGatewayUrl(gatewayUrl),
    close: () => bankSimulator.close(),
  };
}
