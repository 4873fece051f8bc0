import type { SettingsFields } from "../shared/settings-fields.js";

/** DOKU's entry of the providers file: with a `bin`, we number the VAs (MGPC); without, DOKU does (DGPC). */
export interface DokuSettings {
  baseUrl: string;
  clientId: string;
  secretKey: string;
  numbering: { mode: "DGPC" } | { mode: "MGPC"; bin: string };
  notificationPath: string | undefined;
}

export function readDokuSettings(f: SettingsFields): DokuSettings {
  const bin = f.optionalText("bin");
  return {
    numbering: bin ? { mode: "MGPC", bin } : { mode: "DGPC" },
    baseUrl: f.text("baseUrl"),
    clientId: f.text("clientId"),
    secretKey: f.text("secretKey"),
    notificationPath: f.optionalText("notificationPath"),
  };
}
