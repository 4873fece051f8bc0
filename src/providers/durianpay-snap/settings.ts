import type { SettingsFields } from "../shared/settings-fields.js";
import type { DurianpaySnapConfig } from "./adapter.js";
import { DurianpaySnapPath, type DurianpaySnapPaths } from "./wire.js";

/** Durianpay SNAP's entry of the providers file. */
export type DurianpaySnapSettings = Pick<
  DurianpaySnapConfig,
  | "baseUrl"
  | "clientKey"
  | "clientSecret"
  | "privateKey"
  | "durianpayPublicKey"
  | "callbackPath"
  | "channelId"
  | "cancelBy"
  | "paths"
>;

/** Every path may be overridden as `<name>Path` (e.g. `statusPath`): only two are published. */
export function readDurianpaySnapSettings(f: SettingsFields): DurianpaySnapSettings {
  const paths: Partial<DurianpaySnapPaths> = {};
  for (const name of Object.keys(DurianpaySnapPath) as (keyof DurianpaySnapPaths)[]) {
    const value = f.optionalText(`${name}Path`);
    if (value !== undefined) {
      if (!value.startsWith("/")) throw new Error(`VA_PROVIDERS_FILE: durianpay-snap.${name}Path must start with /`);
      paths[name] = value;
    }
  }
  const cancelBy = f.optionalText("cancelBy");
  if (cancelBy !== undefined && cancelBy !== "update-va" && cancelBy !== "delete-va") {
    throw new Error("VA_PROVIDERS_FILE: durianpay-snap.cancelBy must be update-va or delete-va");
  }
  return {
    baseUrl: f.text("baseUrl"),
    clientKey: f.text("clientKey"),
    clientSecret: f.text("clientSecret"),
    privateKey: f.text("privateKey"),
    durianpayPublicKey: f.text("durianpayPublicKey"),
    callbackPath: f.optionalText("callbackPath"),
    channelId: f.optionalText("channelId"),
    cancelBy,
    paths,
  };
}
