import { randomBytes, randomInt } from "node:crypto";
import { DanaSignatureUtil } from "dana-node/runtime";
import tokenService from "doku-nodejs-library/_services/tokenService.js";
import { describe, expect, it } from "vitest";
import {
  signAccessTokenRequest,
  signAsymmetric,
  signSymmetric,
  verifyAccessTokenRequest,
  verifyAsymmetric,
} from "../../../src/protocols/snap/signature.js";
import { formatSnapTimestamp } from "../../../src/protocols/snap/timestamp.js";
import { padPartnerServiceId } from "../../../src/protocols/snap/va-number.js";
import { generateRsaKeyPair } from "./keys.js";

/**
 * Our signatures against the official SDKs (providers.md §8) on random inputs, fresh keys per run.
 * Only the functions §8 calls safe are used: not DOKU's `Snap` class (network on construction),
 * `createSignature` (logs the secret), `generateSignatureV2`/`minifyString` (strip spaces inside
 * values) or `compareSignaturesSymmetric` (case-insensitive base64).
 */

const ROUNDS = 10;
const keys = generateRsaKeyPair();

const randomText = (length: number) => randomBytes(length).toString("base64url");
const randomTimestamp = () => formatSnapTimestamp(new Date(randomInt(1_500_000_000, 2_000_000_000) * 1000));
const randomPath = () => `/v1.0/transfer-va/${randomText(8)}?channel=${randomText(4)}`;
const randomMethod = () => ["POST", "PUT", "DELETE"][randomInt(3)] ?? "POST";

/** Compact JSON with spaces inside values and non-ASCII text, where minifiers go wrong. */
function randomBody(): Record<string, unknown> {
  return {
    partnerServiceId: padPartnerServiceId(String(randomInt(1, 100_000_000))),
    virtualAccountName: `Budi ${randomText(6)} Santoso é`,
    trxId: randomText(20),
    totalAmount: { value: `${randomInt(1, 1_000_000_000)}.00`, currency: "IDR" },
    additionalInfo: { note: "a b  c", nested: [randomInt(1000), null, true] },
  };
}

describe("asymmetric signature vs DanaSignatureUtil.generateSnapB2BScenarioSignature", () => {
  it("is identical on random requests, and each verifies the other", () => {
    for (let round = 0; round < ROUNDS; round++) {
      const request = {
        method: randomMethod(),
        path: randomPath(),
        timestamp: randomTimestamp(),
        body: JSON.stringify(randomBody()),
      };
      const ours = signAsymmetric(request, keys.privateKey);
      const dana = DanaSignatureUtil.generateSnapB2BScenarioSignature(
        request.method,
        request.path,
        request.body,
        keys.privateKey,
        request.timestamp,
      );
      expect(ours).toBe(dana);
      expect(verifyAsymmetric(request, dana, keys.publicKey)).toBe(true);
    }
  });
});

describe("access-token signature vs both SDKs", () => {
  it("equals DanaSignatureUtil.generateSnapApplyTokenScenarioSignature and tokenService.generateSignature", () => {
    for (let round = 0; round < ROUNDS; round++) {
      const clientId = randomText(12);
      const timestamp = randomTimestamp();
      const ours = signAccessTokenRequest(clientId, timestamp, keys.privateKey);
      expect(DanaSignatureUtil.generateSnapApplyTokenScenarioSignature(clientId, keys.privateKey, timestamp)).toBe(ours);
      expect(tokenService.generateSignature(keys.privateKey, clientId, timestamp)).toBe(ours);
    }
  });

  it("is accepted by tokenService.compareSignatures, and DOKU's by our verifier", () => {
    const clientId = randomText(12);
    const timestamp = randomTimestamp();
    const ours = signAccessTokenRequest(clientId, timestamp, keys.privateKey);
    expect(tokenService.compareSignatures(ours, keys.publicKey, clientId, timestamp)).toBe(true);
    const doku = tokenService.generateSignature(keys.privateKey, clientId, timestamp);
    expect(verifyAccessTokenRequest(clientId, timestamp, doku, keys.publicKey)).toBe(true);
  });
});

describe("symmetric signature vs tokenService.generateSymmetricSignature", () => {
  it("is identical when our body is the compact JSON DOKU serialises", () => {
    for (let round = 0; round < ROUNDS; round++) {
      const body = randomBody();
      const request = { method: randomMethod(), path: randomPath(), timestamp: randomTimestamp(), body: JSON.stringify(body) };
      const accessToken = randomText(40);
      const clientSecret = randomText(24);
      const doku = tokenService.generateSymmetricSignature(
        request.method,
        request.path,
        accessToken,
        body,
        request.timestamp,
        clientSecret,
      );
      expect(signSymmetric(request, accessToken, clientSecret)).toBe(doku);
    }
  });
});
