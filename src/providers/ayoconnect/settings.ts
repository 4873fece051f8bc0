import type { SettingsFields } from "../shared/settings-fields.js";
import type { AyoconnectConfig } from "./adapter.js";

/** Ayoconnect's entry of the providers file. */
export type AyoconnectSettings = Pick<AyoconnectConfig, "baseUrl" | "clientId" | "clientSecret" | "merchantCode">;

export function readAyoconnectSettings(f: SettingsFields): AyoconnectSettings {
  return {
    baseUrl: f.text("baseUrl"),
    clientId: f.text("clientId"),
    clientSecret: f.text("clientSecret"),
    merchantCode: f.text("merchantCode"),
  };
}
