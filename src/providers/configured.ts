import { readFileSync } from "node:fs";
import type { ProviderCapabilities } from "./capabilities.js";
import { providerCatalog } from "./catalog.js";
import type { VaProvider } from "./provider.js";
import { SettingsFields } from "./shared/settings-fields.js";

export interface ConfiguredProvider {
  adapter: VaProvider;
  capabilities: ProviderCapabilities;
}

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
    throw new Error(
      `VA_PROVIDERS_FILE ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).name})`,
    );
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
    const entry = providerCatalog[name];
    if (!entry)
      throw new Error(`VA_PROVIDERS_FILE: unknown provider "${name}" (known: ${Object.keys(providerCatalog).join(", ")})`);
    if (typeof value !== "object" || value === null) throw new Error(`VA_PROVIDERS_FILE: "${name}" must be an object`);
    try {
      const providerSettings = entry.readSettings(new SettingsFields(name, value as Record<string, unknown>));
      return { adapter: entry.create(providerSettings, now), capabilities: entry.capabilities(providerSettings) };
    } catch (error) {
      const message = (error as Error).message;
      throw message.startsWith("VA_PROVIDERS_FILE") ? error : new Error(`VA_PROVIDERS_FILE: ${name}: ${message}`);
    }
  });
}
