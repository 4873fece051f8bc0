import { DomainError } from "../domain/errors.js";
import type { ProviderCapabilities } from "../providers/capabilities.js";
import type { VaProvider } from "../providers/provider.js";
import { CircuitBreaker } from "./circuit-breaker.js";

export interface RegisteredProvider {
  adapter: VaProvider;
  capabilities: ProviderCapabilities;
  breaker: CircuitBreaker;
}

/** Per tenant (or `*`): bank code (or `*`) → providers to try, in order. */
export type RoutingRules = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

/** The providers this deployment is configured for, their capabilities, and how tenants route to them. */
export class ProviderRegistry {
  private readonly byName = new Map<string, RegisteredProvider>();

  constructor(
    private readonly defaultProvider: string,
    private readonly routes: RoutingRules = {},
  ) {}

  register(adapter: VaProvider, capabilities: ProviderCapabilities): void {
    this.byName.set(adapter.name, { adapter, capabilities, breaker: new CircuitBreaker() });
  }

  /**
   * The providers a create should try, in order: the one the caller named, or the tenant's
   * routing rule for the bank, or the deployment default.
   */
  candidates(tenantId: string, requested: string, bankCode: string): RegisteredProvider[] {
    if (requested) return [this.named(requested)];
    const rules = this.routes[tenantId] ?? this.routes["*"] ?? {};
    const names = rules[bankCode] ?? rules["*"] ?? [this.defaultProvider];
    return names.map((name) => this.named(name));
  }

  /** For a stored VA or an inbound webhook. */
  get(name: string): RegisteredProvider {
    const provider = this.byName.get(name);
    if (!provider) throw new DomainError("FAILED_PRECONDITION", `provider "${name}" is no longer configured`);
    return provider;
  }

  find(name: string): RegisteredProvider | undefined {
    return this.byName.get(name);
  }

  all(): RegisteredProvider[] {
    return [...this.byName.values()];
  }

  private named(name: string): RegisteredProvider {
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
}
