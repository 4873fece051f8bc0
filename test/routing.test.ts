import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../src/domain/errors.js";
import { ErrorDetailSchema } from "../src/gen/va/v1/va_pb.js";
import type { VaProvider } from "../src/providers/provider.js";
import { sandboxCapabilities } from "../src/providers/sandbox/capabilities.js";
import { vaClient } from "./support/clients.js";
import { createRequest, rejection } from "./support/fixtures.js";
import { startTestGateway, TENANTS, type TestGateway } from "./support/gateway.js";

/** A provider that is down: every create fails the way an unreachable provider does. */
function downProvider(name: string, kind: "UNAVAILABLE" | "INVALID_ARGUMENT"): VaProvider & { calls: number } {
  const provider = {
    name,
    calls: 0,
    async createVirtualAccount(): Promise<never> {
      provider.calls++;
      throw new DomainError(kind, `${name} answered HTTP 503`, {
        provider: name,
        providerCode: "503",
        providerMessage: "upstream",
      });
    },
    async cancelVirtualAccount(): Promise<never> {
      throw new DomainError(kind, "down");
    },
    async receiveWebhook(): Promise<never> {
      throw new Error("not used");
    },
  };
  return provider;
}

describe("routing by tenant rules, with fallback and a circuit breaker", () => {
  let gateway: TestGateway;
  const flaky = downProvider("flaky", "UNAVAILABLE");
  const strict = downProvider("strict", "INVALID_ARGUMENT");

  beforeAll(async () => {
    gateway = await startTestGateway({
      dialect: "sqlite",
      config: { routes: { alpha: { BCA: ["flaky", "sandbox"], BNI: ["strict", "sandbox"], "*": ["sandbox"] } } },
      overrides: {
        extraProviders: [
          { adapter: flaky, capabilities: { ...sandboxCapabilities, provider: "flaky" } },
          { adapter: strict, capabilities: { ...sandboxCapabilities, provider: "strict" } },
        ],
      },
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("falls back to the next provider when the first is down, and stops calling it once its circuit opens", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    for (let i = 0; i < 7; i++) {
      const { virtualAccount } = await client.createVirtualAccount(createRequest({ bankCode: "BCA" }));
      expect(virtualAccount?.provider).toBe("sandbox");
    }
    expect(flaky.calls).toBe(5);
  });

  it("does not fall back when the first provider refuses the request", async () => {
    const client = vaClient(gateway.url, TENANTS.alpha.apiKey);
    const error = await rejection(client.createVirtualAccount(createRequest({ bankCode: "BNI" })));
    expect(error.code).toBe(3);
  });

  it("an explicitly named provider that is down answers UNAVAILABLE with its raw answer in the details", async () => {
    const client = vaClient(gateway.url, TENANTS.beta.apiKey);
    const error = await rejection(client.createVirtualAccount(createRequest({ provider: "flaky", bankCode: "MANDIRI" })));
    expect(error.code).toBe(14);
    expect(error.findDetails(ErrorDetailSchema)[0]).toMatchObject({ provider: "flaky" });
  });

  it("other tenants use the default route", async () => {
    const client = vaClient(gateway.url, TENANTS.beta.apiKey);
    const { virtualAccount } = await client.createVirtualAccount(createRequest({ bankCode: "BCA" }));
    expect(virtualAccount?.provider).toBe("sandbox");
  });
});
