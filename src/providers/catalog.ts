import { createAyoconnectProvider } from "./ayoconnect/adapter.js";
import { ayoconnectCapabilities } from "./ayoconnect/capabilities.js";
import { readAyoconnectSettings } from "./ayoconnect/settings.js";
import { createAyoconnectSnapProvider } from "./ayoconnect-snap/adapter.js";
import { ayoconnectSnapCapabilities } from "./ayoconnect-snap/capabilities.js";
import { readAyoconnectSnapSettings } from "./ayoconnect-snap/settings.js";
import type { ProviderCapabilities } from "./capabilities.js";
import { createDokuProvider } from "./doku/adapter.js";
import { dokuCapabilitiesFor } from "./doku/capabilities.js";
import { readDokuSettings } from "./doku/settings.js";
import { createDokuSnapProvider } from "./doku-snap/adapter.js";
import { dokuSnapCapabilitiesFor } from "./doku-snap/capabilities.js";
import { readDokuSnapSettings } from "./doku-snap/settings.js";
import { createDurianpayProvider } from "./durianpay/adapter.js";
import { durianpayCapabilities } from "./durianpay/capabilities.js";
import { readDurianpaySettings } from "./durianpay/settings.js";
import { createDurianpaySnapProvider } from "./durianpay-snap/adapter.js";
import { durianpaySnapCapabilities } from "./durianpay-snap/capabilities.js";
import { readDurianpaySnapSettings } from "./durianpay-snap/settings.js";
import type { VaProvider } from "./provider.js";
import type { SettingsFields } from "./shared/settings-fields.js";
import { createWinpayProvider } from "./winpay/adapter.js";
import { winpayCapabilities } from "./winpay/capabilities.js";
import { readWinpaySettings } from "./winpay/settings.js";

/** One provider as the providers file configures it. */
export interface CatalogEntry<Settings> {
  /** Reads its entry of the providers file; throws naming the field that is wrong. */
  readSettings(fields: SettingsFields): Settings;
  create(settings: Settings, now: () => Date): VaProvider;
  capabilities(settings: Settings): ProviderCapabilities;
}

// Method parameters are bivariant, so each line keeps its own settings type inside the one table.
const entry = <Settings>(line: CatalogEntry<Settings>): CatalogEntry<unknown> => line;

/**
 * Every provider a real account can be configured for. Adding a provider is a folder, a line here,
 * and a line in `sandbox/catalog.ts` for its simulator.
 */
export const providerCatalog: Readonly<Record<string, CatalogEntry<unknown>>> = {
  winpay: entry({
    readSettings: readWinpaySettings,
    create: (settings, now) => createWinpayProvider({ ...settings, now }),
    capabilities: () => winpayCapabilities,
  }),
  doku: entry({
    readSettings: readDokuSettings,
    create: ({ numbering, ...settings }, now) => createDokuProvider({ ...settings, ...numbering, now }),
    capabilities: ({ numbering }) => dokuCapabilitiesFor(numbering),
  }),
  durianpay: entry({
    readSettings: readDurianpaySettings,
    create: (settings, now) => createDurianpayProvider({ ...settings, now }),
    capabilities: () => durianpayCapabilities,
  }),
  "doku-snap": entry({
    readSettings: readDokuSnapSettings,
    create: (settings, now) => createDokuSnapProvider({ ...settings, now }),
    capabilities: dokuSnapCapabilitiesFor,
  }),
  ayoconnect: entry({
    readSettings: readAyoconnectSettings,
    create: (settings, now) => createAyoconnectProvider({ ...settings, now }),
    capabilities: () => ayoconnectCapabilities,
  }),
  "ayoconnect-snap": entry({
    readSettings: readAyoconnectSnapSettings,
    create: (settings, now) => createAyoconnectSnapProvider({ ...settings, now }),
    capabilities: () => ayoconnectSnapCapabilities,
  }),
  "durianpay-snap": entry({
    readSettings: readDurianpaySnapSettings,
    create: (settings, now) => createDurianpaySnapProvider({ ...settings, now }),
    capabilities: () => durianpaySnapCapabilities,
  }),
};
