/** Reads one provider's entry of the providers file, naming the wrong field (never its value). */
export class SettingsFields {
  constructor(
    private readonly provider: string,
    private readonly settings: Record<string, unknown>,
  ) {}

  text(name: string): string {
    const value = this.settings[name];
    if (typeof value !== "string" || value === "")
      throw new Error(`VA_PROVIDERS_FILE: ${this.provider}.${name} must be a non-empty string`);
    return value;
  }

  optionalText(name: string): string | undefined {
    return this.settings[name] === undefined ? undefined : this.text(name);
  }
}
