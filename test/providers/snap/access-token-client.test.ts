import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../../src/domain/errors.js";
import { createAccessTokenClient } from "../../../src/protocols/snap/access-token-client.js";
import { createAccessTokenIssuer } from "../../../src/protocols/snap/access-token-issuer.js";
import type { HttpAnswer } from "../../../src/providers/provider.js";
import { type RunningSimulator, startSimulatorServer } from "../../../src/sandbox/simulator-kit.js";
import { generateRsaKeyPair } from "./keys.js";

/** Our token client against our token endpoint, over HTTP, on a clock the test moves. */

const keys = generateRsaKeyPair();
let clock = new Date("2025-06-01T10:00:00+07:00");
const now = () => clock;
const issuer = createAccessTokenIssuer({
  clientPublicKeyOf: (clientId) => (clientId === "MERCHANT01" ? keys.publicKey : undefined),
  tokenSecret: randomBytes(32),
  now,
});
let tokenRequests = 0;
let server: RunningSimulator;

const asResponse = (answer: HttpAnswer) => ({ status: answer.status, body: answer.body });

beforeAll(async () => {
  server = await startSimulatorServer((request) => {
    tokenRequests++;
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name] = String(value);
    return asResponse(issuer.issue({ method: request.method, path: request.path, headers, rawBody: request.rawBody }));
  });
});
afterAll(() => server.close());

const signal = new AbortController().signal;

describe("createAccessTokenClient", () => {
  it("fetches once, caches, and renews one margin before expiresIn runs out", async () => {
    const client = createAccessTokenClient({
      provider: "bank",
      baseUrl: server.url,
      clientId: "MERCHANT01",
      privateKey: keys.privateKey,
      timeoutMs: 5_000,
      refreshMarginMs: 60_000,
      now,
    });
    tokenRequests = 0;
    const [first, concurrent] = await Promise.all([client.token(signal), client.token(signal)]);
    expect(concurrent).toBe(first);
    expect(issuer.clientIdOfToken(first)).toBe("MERCHANT01");
    expect(tokenRequests).toBe(1);

    clock = new Date(clock.getTime() + 839_000); // 900 s token, 60 s margin: still good
    expect(await client.token(signal)).toBe(first);
    expect(tokenRequests).toBe(1);

    clock = new Date(clock.getTime() + 2_000); // inside the margin: renew
    const renewed = await client.token(signal);
    expect(renewed).not.toBe(first);
    expect(tokenRequests).toBe(2);

    client.invalidate();
    await client.token(signal);
    expect(tokenRequests).toBe(3);
  });

  it("surfaces the endpoint's refusal as a DomainError with the SNAP code, not the key", async () => {
    const client = createAccessTokenClient({
      provider: "bank",
      baseUrl: server.url,
      clientId: "MERCHANT01",
      privateKey: generateRsaKeyPair().privateKey,
      timeoutMs: 5_000,
      now,
    });
    const error = await client.token(signal).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({
      kind: "INTERNAL",
      facts: { provider: "bank", providerCode: "4017300", providerMessage: "Unauthorized. Invalid Signature" },
    });
    expect(String((error as Error).message)).not.toContain("PRIVATE KEY");
  });
});
