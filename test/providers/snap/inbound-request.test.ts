import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAccessTokenIssuer } from "../../../src/protocols/snap/access-token-issuer.js";
import { InMemoryExternalIdStore } from "../../../src/protocols/snap/external-id-store.js";
import { newExternalId } from "../../../src/protocols/snap/headers.js";
import { type InboundCheck, verifyInboundSnapRequest } from "../../../src/protocols/snap/inbound-request.js";
import { signAccessTokenRequest, signAsymmetric, signSymmetric } from "../../../src/protocols/snap/signature.js";
import { formatSnapTimestamp } from "../../../src/protocols/snap/timestamp.js";
import type { InboundHttpRequest } from "../../../src/providers/provider.js";
import { generateRsaKeyPair } from "./keys.js";

const partner = generateRsaKeyPair();
const PATH = "/webhooks/bank/v1.0/transfer-va/payment";
const BODY =
  '{"partnerServiceId":"   12345","customerNo":"0001","virtualAccountNo":"   123450001","paidAmount":{"value":"10000.00","currency":"IDR"}}';
const NOW = new Date("2025-06-01T10:00:00+07:00");

function signedRequest(overrides: { body?: string; timestamp?: string; externalId?: string } = {}): InboundHttpRequest {
  const timestamp = overrides.timestamp ?? formatSnapTimestamp(NOW);
  const body = overrides.body ?? BODY;
  return {
    method: "POST",
    path: PATH,
    headers: {
      "content-type": "application/json",
      "x-timestamp": timestamp,
      "x-signature": signAsymmetric({ method: "POST", path: PATH, body, timestamp }, partner.privateKey),
      "x-partner-id": "BANK01",
      "x-external-id": overrides.externalId ?? newExternalId(NOW),
      "channel-id": "95231",
    },
    rawBody: Buffer.from(body),
  };
}

function asymmetricCheck(overrides: Partial<InboundCheck> = {}): InboundCheck {
  return {
    serviceCode: "25",
    signedPath: PATH,
    credentialsOf: (partnerId) => (partnerId === "BANK01" ? { kind: "asymmetric", publicKey: partner.publicKey } : undefined),
    externalIds: new InMemoryExternalIdStore(),
    now: NOW,
    ...overrides,
  };
}

async function rejectionOf(request: InboundHttpRequest, check: InboundCheck) {
  const verdict = await verifyInboundSnapRequest(request, check);
  if (verdict.ok) throw new Error("expected a rejection");
  return { status: verdict.answer.status, body: JSON.parse(verdict.answer.body), reason: verdict.reason };
}

describe("verifyInboundSnapRequest, asymmetric", () => {
  it("accepts a request signed over the exact bytes and path", async () => {
    const verdict = await verifyInboundSnapRequest(signedRequest(), asymmetricCheck());
    expect(verdict).toMatchObject({ ok: true, request: { partnerId: "BANK01", channelId: "95231" } });
  });

  it("rejects a tampered body with 4012500", async () => {
    const request = signedRequest();
    const tampered = { ...request, rawBody: Buffer.from(BODY.replace("10000.00", "90000.00")) };
    expect(await rejectionOf(tampered, asymmetricCheck())).toEqual({
      status: 401,
      body: { responseCode: "4012500", responseMessage: "Unauthorized. Invalid Signature" },
      reason: "bad signature",
    });
  });

  it("rejects a request whose signed path is not the one we verify", async () => {
    const rejection = await rejectionOf(signedRequest(), asymmetricCheck({ signedPath: "/v1.0/transfer-va/payment" }));
    expect(rejection.body.responseCode).toBe("4012500");
  });

  it("verifies against the configured public path behind a path-rewriting proxy", async () => {
    const rewritten = { ...signedRequest(), path: "/internal/winpay/payment" };
    const verdict = await verifyInboundSnapRequest(rewritten, asymmetricCheck({ signedPath: PATH }));
    expect(verdict.ok).toBe(true);
  });

  it("rejects a stale timestamp, even when correctly signed", async () => {
    const stale = formatSnapTimestamp(new Date(NOW.getTime() - 6 * 60_000));
    const rejection = await rejectionOf(signedRequest({ timestamp: stale }), asymmetricCheck());
    expect(rejection.status).toBe(401);
    expect(rejection.body).toEqual({ responseCode: "4012500", responseMessage: "Unauthorized. Stale Timestamp" });
  });

  it("rejects a malformed timestamp and a missing header naming the field", async () => {
    const request = signedRequest({ timestamp: "2025-06-01 10:00:00" });
    expect((await rejectionOf(request, asymmetricCheck())).body).toEqual({
      responseCode: "4002501",
      responseMessage: "Invalid Field Format {X-TIMESTAMP}",
    });
    const withoutChannel = signedRequest();
    delete withoutChannel.headers["channel-id"];
    expect((await rejectionOf(withoutChannel, asymmetricCheck())).body).toEqual({
      responseCode: "4002502",
      responseMessage: "Invalid Mandatory Field {CHANNEL-ID}",
    });
  });

  it("rejects a reused X-EXTERNAL-ID of the same partner on the same day with 4092500", async () => {
    const check = asymmetricCheck();
    const externalId = newExternalId(NOW);
    expect((await verifyInboundSnapRequest(signedRequest({ externalId }), check)).ok).toBe(true);
    const replay = await rejectionOf(signedRequest({ externalId }), check);
    expect(replay.status).toBe(409);
    expect(replay.body).toEqual({ responseCode: "4092500", responseMessage: "Cannot use same X-EXTERNAL-ID in same day" });
  });

  it("does not let a forged request burn an X-EXTERNAL-ID", async () => {
    const check = asymmetricCheck();
    const externalId = newExternalId(NOW);
    const forged = { ...signedRequest({ externalId }), rawBody: Buffer.from("{}") };
    expect((await rejectionOf(forged, check)).body.responseCode).toBe("4012500");
    expect((await verifyInboundSnapRequest(signedRequest({ externalId }), check)).ok).toBe(true);
  });

  it("answers an unknown partner with 4042516", async () => {
    const check = asymmetricCheck({ credentialsOf: () => undefined });
    expect((await rejectionOf(signedRequest(), check)).body.responseCode).toBe("4042516");
  });
});

describe("token endpoint + symmetric requests", () => {
  const client = generateRsaKeyPair();
  const clientSecret = "bank-client-secret";
  let clock = NOW;
  const issuer = createAccessTokenIssuer({
    clientPublicKeyOf: (clientId) => (clientId === "BANK01" ? client.publicKey : undefined),
    tokenSecret: randomBytes(32),
    now: () => clock,
  });

  function tokenRequest(signature?: string): InboundHttpRequest {
    const timestamp = formatSnapTimestamp(clock);
    return {
      method: "POST",
      path: "/v1.0/access-token/b2b",
      headers: {
        "x-timestamp": timestamp,
        "x-client-key": "BANK01",
        "x-signature": signature ?? signAccessTokenRequest("BANK01", timestamp, client.privateKey),
      },
      rawBody: Buffer.from('{"grantType":"client_credentials","additionalInfo":{}}'),
    };
  }

  function symmetricRequest(accessToken: string): InboundHttpRequest {
    const timestamp = formatSnapTimestamp(clock);
    const signature = signSymmetric({ method: "POST", path: PATH, body: BODY, timestamp }, accessToken, clientSecret);
    return {
      method: "POST",
      path: PATH,
      headers: {
        authorization: `Bearer ${accessToken}`,
        "x-timestamp": timestamp,
        "x-signature": signature,
        "x-partner-id": "BANK01",
        "x-external-id": newExternalId(clock),
        "channel-id": "95231",
      },
      rawBody: Buffer.from(BODY),
    };
  }

  const symmetricCheck = (): InboundCheck => ({
    ...asymmetricCheck(),
    now: clock,
    credentialsOf: () => ({ kind: "symmetric", clientSecret, clientIdOfToken: issuer.clientIdOfToken }),
  });

  it("issues a token for a valid signature and refuses a forged one", () => {
    const issued = issuer.issue(tokenRequest());
    expect(issued.status).toBe(200);
    expect(JSON.parse(issued.body)).toMatchObject({
      responseCode: "2007300",
      responseMessage: "Successful",
      tokenType: "Bearer",
      expiresIn: "900",
    });
    const forged = issuer.issue(tokenRequest(signAccessTokenRequest("BANK01", "x", client.privateKey)));
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body)).toEqual({ responseCode: "4017300", responseMessage: "Unauthorized. Invalid Signature" });
  });

  it("accepts an HMAC-signed request under that token until it expires", async () => {
    clock = NOW;
    const accessToken = JSON.parse(issuer.issue(tokenRequest()).body).accessToken as string;
    expect((await verifyInboundSnapRequest(symmetricRequest(accessToken), symmetricCheck())).ok).toBe(true);

    const forgedToken = `${accessToken.split(".")[0]}.${Buffer.alloc(32).toString("base64url")}`;
    expect((await rejectionOf(symmetricRequest(forgedToken), symmetricCheck())).body.responseCode).toBe("4012501");

    clock = new Date(NOW.getTime() + 901_000);
    expect((await rejectionOf(symmetricRequest(accessToken), symmetricCheck())).body).toEqual({
      responseCode: "4012501",
      responseMessage: "Invalid Token (B2B)",
    });
  });

  it("rejects an HMAC made with another secret", async () => {
    clock = NOW;
    const accessToken = JSON.parse(issuer.issue(tokenRequest()).body).accessToken as string;
    const check: InboundCheck = {
      ...symmetricCheck(),
      credentialsOf: () => ({ kind: "symmetric", clientSecret: "other", clientIdOfToken: issuer.clientIdOfToken }),
    };
    expect((await rejectionOf(symmetricRequest(accessToken), check)).body.responseCode).toBe("4012500");
  });
});
