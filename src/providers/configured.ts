import { readFileSync } from "node:fs";
import { createAyoconnectProvider } from "./ayoconnect/adapter.js";
import { ayoconnectCapabilities } from "./ayoconnect/capabilities.js";
import type { ProviderCapabilities } from "./capabilities.js";
import { createDokuProvider } from "./doku/adapter.js";
import { dokuCapabilitiesFor } from "./doku/capabilities.js";
import { createDurianpayProvider } from "./durianpay/adapter.js";
import { durianpayCapabilities } from "./durianpay/capabilities.js";
import type { VaProvider } from "./provider.js";
import { createWinpayProvider } from "./winpay/adapter.js";
import { winpayCapabilities } from "./winpay/capabilities.js";

export interface ConfiguredProvider {
  adapter: VaProvider;
  capabilities: ProviderCapabilities;
}

type Settings = Record<string, unknown>;

/**
 * Real provider accounts, from a JSON file (`VA_PROVIDERS_FILE`) that operators keep next to their
 * other secrets: `{"winpay": {...}, "doku": {...}, "durianpay": {...}, "ayoconnect": {...}}`, each
 * with the fields its adapter's config names (keys as PEM text). Only the providers listed start.
 */
export function providersFromFile(path: string, now: () => Date): ConfiguredProvider[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`VA_PROVIDERS_FILE ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).name})`);
  }
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the text around the mistake, which may be a key.
    throw new Error(`VA_PROVIDERS_FILE ${path} is not valid JSON`);
  }
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
    throw new Error(`VA_PROVIDERS_FILE ${path} must hold an object keyed by provider name`);
  }
  return Object.entries(settings).map(([name, value]) => {
    const build = BUILDERS[name];
    if (!build) throw new Error(`VA_PROVIDERS_FILE: unknown provider "${name}" (known: ${Object.keys(BUILDERS).join(", ")})`);
    if (typeof value !== "object" || value === null) throw new Error(`VA_PROVIDERS_FILE: "${name}" must be an object`);
    try {
      return build(new Fields(name, value as Settings), now);
    } catch (error) {
      const message = (error as Error).message;
      throw message.startsWith("VA_PROVIDERS_FILE") ? error : new Error(`VA_PROVIDERS_FILE: ${name}: ${message}`);
    }
  });
}

/** Reads one provider's settings, naming the missing field (never its value) when one is wrong. */
class Fields {
  constructor(
    private readonly provider: string,
    private readonly settings: Settings,
  ) {}

  text(name: string): string {
    const value = this.settings[name];
    if (typeof value !== "string" || value === "") throw new Error(`VA_PROVIDERS_FILE: ${this.provider}.${name} must be a non-empty string`);
    return value;
  }

  optionalText(name: string): string | undefined {
    return this.settings[name] === undefined ? undefined : this.text(name);
  }
}

const BUILDERS: Record<string, (fields: Fields, now: () => Date) => ConfiguredProvider> = {
  winpay: (f, now) => ({
    adapter: createWinpayProvider({
      baseUrl: f.text("baseUrl"),
      partnerId: f.text("partnerId"),
      channelId: f.optionalText("channelId"),
      privateKey: f.text("privateKey"),
      winpayPublicKey: f.text("winpayPublicKey"),
      callbackPath: f.optionalText("callbackPath"),
      now,
    }),
    capabilities: winpayCapabilities,
  }),
  doku: (f, now) => {
    const bin = f.optionalText("bin");
    const numbering = bin ? ({ mode: "MGPC", bin } as const) : ({ mode: "DGPC" } as const);
    return {
      adapter: createDokuProvider({
        baseUrl: f.text("baseUrl"),
        clientId: f.text("clientId"),
        secretKey: f.text("secretKey"),
        ...numbering,
        notificationPath: f.optionalText("notificationPath"),
        now,
      }),
      capabilities: dokuCapabilitiesFor(numbering),
    };
  },
  durianpay: (f, now) => ({
    adapter: createDurianpayProvider({
      baseUrl: f.text("baseUrl"),
      serverKey: f.text("serverKey"),
      providerAccount: f.text("providerAccount"),
      now,
    }),
    capabilities: durianpayCapabilities,
  }),
  ayoconnect: (f, now) => ({
    adapter: createAyoconnectProvider({
      baseUrl: f.text("baseUrl"),
      clientId: f.text("clientId"),
      clientSecret: f.text("clientSecret"),
      merchantCode: f.text("merchantCode"),
      now,
    }),
    capabilities: ayoconnectCapabilities,
  }),
};
