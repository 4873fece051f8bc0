import type { SettingsFields } from "../shared/settings-fields.js";
import type { DokuSnapConfig } from "./adapter.js";
import type { DokuSnapMode } from "./transformers.js";

/** DOKU SNAP's entry of the providers file. */
export type DokuSnapSettings = Pick<
  DokuSnapConfig,
  | "baseUrl"
  | "clientId"
  | "secretKey"
  | "privateKey"
  | "dokuPublicKey"
  | "tokenSecret"
  | "mode"
  | "bin"
  | "channelId"
  | "notificationPath"
  | "inquiryPath"
>;

const MODES: readonly DokuSnapMode[] = ["DGPC", "MGPC", "DIPC"];

export function readDokuSnapSettings(f: SettingsFields): DokuSnapSettings {
  const mode = f.text("mode");
  if (!MODES.includes(mode as DokuSnapMode))
    throw new Error(`VA_PROVIDERS_FILE: doku-snap.mode must be one of ${MODES.join(", ")}`);
  const bin = f.text("bin");
  if (!/^\d{1,8}$/.test(bin)) throw new Error("VA_PROVIDERS_FILE: doku-snap.bin must be 1-8 digits (the partnerServiceId)");
  const tokenSecret = Buffer.from(f.text("tokenSecret"), "utf8");
  if (tokenSecret.length < 32) throw new Error("VA_PROVIDERS_FILE: doku-snap.tokenSecret must be at least 32 bytes");
  return {
    baseUrl: f.text("baseUrl"),
    clientId: f.text("clientId"),
    secretKey: f.text("secretKey"),
    privateKey: f.text("privateKey"),
    dokuPublicKey: f.text("dokuPublicKey"),
    tokenSecret,
    mode: mode as DokuSnapMode,
    bin,
    channelId: f.optionalText("channelId"),
    notificationPath: f.optionalText("notificationPath"),
    inquiryPath: f.optionalText("inquiryPath"),
  };
}
