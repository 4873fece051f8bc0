import type { ProviderCapabilities } from "../capabilities.js";
import { createSnapBillerProvider, type SnapBillerConfig, type SnapBillerProvider } from "./adapter.js";
import { snapBillerCapabilities } from "./capabilities.js";
import type { SnapBillerSettings } from "./settings.js";

/** What the sandbox kit puts in place of the bank the settings name: its keys, its URL, its payments. */
export interface StandInBank {
  bankPublicKey: string;
  bank: NonNullable<SnapBillerConfig["bank"]>;
  simulatePayment: NonNullable<SnapBillerConfig["simulatePayment"]>;
}

/** The `snap-biller` adapter and its capabilities from its settings (or, in sandbox, a stand-in bank). */
export function createSnapBiller(
  settings: SnapBillerSettings,
  now: () => Date,
  standIn?: StandInBank,
): { provider: SnapBillerProvider; capabilities: ProviderCapabilities } {
  const bankPublicKey = standIn?.bankPublicKey ?? settings.bankPublicKey;
  if (!bankPublicKey) throw new Error("snap-biller needs the bank's public key outside sandbox mode");
  const bank =
    standIn?.bank ??
    (settings.bankBaseUrl
      ? {
          baseUrl: settings.bankBaseUrl,
          partnerId: settings.partnerId,
          privateKey: settings.privateKey ?? "",
          channelId: settings.channelId,
          createVaPath: settings.bankCreateVaPath,
        }
      : undefined);
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
    simulatePayment: standIn?.simulatePayment,
    now,
  });
  return {
    provider,
    capabilities: snapBillerCapabilities(settings.bankCode, settings.partnerServiceId, settings.customerNoDigits),
  };
}
