import type { SettingsFields } from "../shared/settings-fields.js";
import type { WinpayConfig } from "./adapter.js";

/** Winpay's entry of the providers file. */
export type WinpaySettings = Pick<
  WinpayConfig,
  "baseUrl" | "partnerId" | "channelId" | "privateKey" | "winpayPublicKey" | "callbackPath"
>;

export function readWinpaySettings(f: SettingsFields): WinpaySettings {
  return {
    baseUrl: f.text("baseUrl"),
    partnerId: f.text("partnerId"),
    channelId: f.optionalText("channelId"),
    privateKey: f.text("privateKey"),
    winpayPublicKey: f.text("winpayPublicKey"),
    callbackPath: f.optionalText("callbackPath"),
  };
}
