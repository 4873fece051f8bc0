import type { SettingsFields } from "../shared/settings-fields.js";
import type { DurianpayConfig } from "./adapter.js";

/** Durianpay's entry of the providers file. */
export type DurianpaySettings = Pick<DurianpayConfig, "baseUrl" | "serverKey" | "providerAccount">;

export function readDurianpaySettings(f: SettingsFields): DurianpaySettings {
  return { baseUrl: f.text("baseUrl"), serverKey: f.text("serverKey"), providerAccount: f.text("providerAccount") };
}
