import { generateKeyPairSync } from "node:crypto";
import { DomainError } from "../../domain/errors.js";
import type { ProviderCapabilities } from "../capabilities.js";
import { createSnapBillerProvider, type SnapBillerProvider } from "./adapter.js";
import { type BankSimulator, startBankSimulator } from "./bank-simulator.js";
import { snapBillerCapabilities } from "./capabilities.js";
import type { SnapBillerSettings } from "./settings.js";
import { SNAP_BILLER } from "./wire.js";

export interface SnapBillerKit {
  provider: SnapBillerProvider;
  capabilities: ProviderCapabilities;
  /** Sandbox without a bank key: the in-process bank that calls us and answers our status queries. */
  bankSimulator: BankSimulator | undefined;
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
 * The `snap-biller` adapter from its settings. With no bank public key (sandbox only), both key
 * pairs are generated and an in-process bank simulator plays the bank, also for `SimulatePayment`.
 */
export async function startSnapBillerKit(
  settings: SnapBillerSettings,
  options: { sandbox: boolean; now: () => Date; paymentRetryDelaysMs?: number[] },
): Promise<SnapBillerKit> {
  let bankSimulator: BankSimulator | undefined;
  let bankPublicKey = settings.bankPublicKey;
  let bank = settings.bankBaseUrl
    ? {
        baseUrl: settings.bankBaseUrl,
        partnerId: settings.partnerId,
        privateKey: settings.privateKey ?? "",
        channelId: settings.channelId,
        createVaPath: settings.bankCreateVaPath,
      }
    : undefined;
  if (!bankPublicKey) {
    if (!options.sandbox) throw new Error("snap-biller needs the bank's public key outside sandbox mode");
    const bankKeys = rsaPems();
    const ourKeys = rsaPems();
    const partnerId = settings.partnerId || "VA-GATEWAY";
    bankSimulator = await startBankSimulator({
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
    bankPublicKey = bankKeys.publicKey;
    bank = {
      baseUrl: bankSimulator.url,
      partnerId,
      privateKey: ourKeys.privateKey,
      channelId: settings.channelId,
      createVaPath: settings.bankCreateVaPath,
    };
  }
  const simulator = bankSimulator;
  const provider = createSnapBillerProvider({
    partnerServiceId: settings.partnerServiceId,
    customerNoDigits: settings.customerNoDigits,
    bankPartnerId: settings.bankPartnerId,
    bankPublicKey,
    bankClientSecret: settings.bankClientSecret,
    tokenSecret: Buffer.from(settings.tokenSecret),
    publicPathPrefix: settings.publicPathPrefix,
    maxClockSkewMs: settings.maxClockSkewMs,
    bank,
    simulatePayment: simulator
      ? async (vaNumber, amount) => {
          const transfer = await simulator.transfer(vaNumber, { amount });
          if (transfer.state === "COMPLETED") return { providerPaymentRef: transfer.inquiryRequestId };
          const refusal = transfer.payments.at(-1) ?? transfer.inquiry;
          const message = typeof refusal.json?.responseMessage === "string" ? refusal.json.responseMessage : "";
          throw new DomainError("FAILED_PRECONDITION", `the bank could not pay: ${refusal.responseCode ?? "no answer"} ${message}`, {
            provider: SNAP_BILLER,
            providerCode: refusal.responseCode,
            providerMessage: message,
          });
        }
      : undefined,
    now: options.now,
  });
  return {
    provider,
    capabilities: snapBillerCapabilities(settings.bankCode, settings.partnerServiceId, settings.customerNoDigits),
    bankSimulator,
    attach(gatewayUrl) {
      bankSimulator?.setGatewayUrl(gatewayUrl);
    },
    close: async () => {
      await bankSimulator?.close();
    },
  };
}
