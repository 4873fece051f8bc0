import { DomainError } from "../domain/errors.js";
import type { VaProvider } from "../providers/provider.js";

/** The providers this deployment is configured for, by name. */
export class ProviderRegistry {
  private readonly byName: Map<string, VaProvider>;

  constructor(
    providers: readonly VaProvider[],
    private readonly defaultProvider: string,
  ) {
    this.byName = new Map(providers.map((p) => [p.name, p]));
  }

  /** For a caller's request: empty means the default; an unknown name is the caller's mistake. */
  resolve(requested: string): VaProvider {
    const name = requested || this.defaultProvider;
    const provider = this.byName.get(name);
    if (!provider) {
      throw new DomainError(
        "INVALID_ARGUMENT",
        `provider: "${name}" is not configured here (available: ${[...this.byName.keys()].join(", ")})`,
        { field: "provider" },
      );
    }
    return provider;
  }

  /** For a stored VA or an inbound webhook. */
  get(name: string): VaProvider {
    const provider = this.byName.get(name);
    if (!provider) throw new DomainError("FAILED_PRECONDITION", `provider "${name}" is no longer configured`);
    return provider;
  }

  find(name: string): VaProvider | undefined {
    return this.byName.get(name);
  }
}
