import type { SettingsFields } from "../shared/settings-fields.js";
import type { AyoconnectSnapConfig } from "./adapter.js";
import type { SignatureEncoding } from "./wire.js";

/** Ayoconnect SNAP's entry of the providers file. */
export type AyoconnectSnapSettings = Pick<
  AyoconnectSnapConfig,
  | "baseUrl"
  | "clientId"
  | "clientSecret"
  | "partnerId"
  | "channelId"
  | "privateKey"
  | "ayoconnectPublicKey"
  | "callbackPath"
  | "signatureEncoding"
  | "paths"
>;

export function readAyoconnectSnapSettings(f: SettingsFields): AyoconnectSnapSettings {
  const encoding = f.optionalText("signatureEncoding");
  if (encoding !== undefined && encoding !== "base64" && encoding !== "hex") {
    throw new Error("VA_PROVIDERS_FILE: ayoconnect-snap.signatureEncoding must be base64 or hex");
  }
  const path = (name: string) => {
    const value = f.optionalText(name);
    if (value !== undefined && !value.startsWith("/"))
      throw new Error(`VA_PROVIDERS_FILE: ayoconnect-snap.${name} must start with /`);
    return value;
  };
  const paths = {
    accessToken: path("accessTokenPath"),
    createVa: path("createVaPath"),
    updateVa: path("updateVaPath"),
    inquiryVa: path("inquiryVaPath"),
  };
  return {
    baseUrl: f.text("baseUrl"),
    clientId: f.text("clientId"),
    clientSecret: f.text("clientSecret"),
    partnerId: f.text("partnerId"),
    channelId: f.optionalText("channelId"),
    privateKey: f.text("privateKey"),
    ayoconnectPublicKey: f.text("ayoconnectPublicKey"),
    callbackPath: f.optionalText("callbackPath"),
    signatureEncoding: encoding as SignatureEncoding | undefined,
    paths: Object.fromEntries(Object.entries(paths).filter(([, value]) => value !== undefined)),
  };
}
