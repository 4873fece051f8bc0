import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { readSnapAnswer } from "../../src/protocols/snap/provider-answer.js";
import { accessTokenStringToSign, symmetricStringToSign, verifyAccessTokenRequest } from "../../src/protocols/snap/signature.js";
import { createDurianpaySnapProvider } from "../../src/providers/durianpay-snap/adapter.js";
import { createDurianpayTokenSource, tokenExpiry } from "../../src/providers/durianpay-snap/token.js";
import { DurianpayTransactionStatus, TOKEN_REQUEST_BODY } from "../../src/providers/durianpay-snap/wire.js";
import { startDurianpaySnapSimulator } from "../../src/sandbox/durianpay-snap/simulator.js";
import { type RunningSimulator, type SimulatorRequest, startSimulatorServer } from "../../src/sandbox/simulator-kit.js";
import { shapeProblems } from "../support/json-shape.js";

/**
 * Durianpay's published SNAP samples (test/fixtures/durianpay-snap, see SOURCES.md): the token
 * exchange, the signature strings, the sandbox error answers and the notification statuses. No VA
 * body sample is published; those are covered by durianpay-snap.test.ts against the field tables.
 */
const sample = (name: string) => readFileSync(new URL(`../fixtures/durianpay-snap/${name}`, import.meta.url), "utf8");
const json = <T = Record<string, unknown>>(name: string) => JSON.parse(sample(name)) as T;
const signal = new AbortController().signal;
const keys = () => generateKeyPairSync("rsa", { modulusLength: 2048 });

let stub: RunningSimulator | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

/** A Durianpay that answers every request with `answer` and keeps what it received. */
async function stubDurianpay(answer: (request: SimulatorRequest) => { status: number; body: string }) {
  const received: SimulatorRequest[] = [];
  stub = await startSimulatorServer((request) => {
    received.push(request);
    return answer(request);
  });
  return { url: stub.url, received };
}

describe("access token (B2B)", () => {
  it("our request has the published body, byte for byte once minified, and the published headers, signed over clientKey|timestamp", async () => {
    const merchant = keys();
    const { url, received } = await stubDurianpay(() => ({ status: 200, body: sample("access-token-b2b.response.json") }));
    const tokens = createDurianpayTokenSource({
      provider: "durianpay-snap",
      baseUrl: url,
      path: "/v1.0/access-token/b2b",
      clientKey: "client_id",
      privateKey: merchant.privateKey,
      timeoutMs: 5_000,
      now: () => new Date("2024-05-13T08:32:36.422Z"),
    });
    const published = json("access-token-b2b.response.json");
    expect(await tokens.token(signal)).toBe(published.accessToken);

    const [request] = received;
    expect(request?.path).toBe("/v1.0/access-token/b2b");
    expect(request?.rawBody.toString()).toBe(JSON.stringify(JSON.parse(sample("access-token-b2b.request.json"))));
    expect(TOKEN_REQUEST_BODY).toBe(request?.rawBody.toString());
    const headers = Object.keys(json("access-token-b2b.request-headers.json")).map((h) => h.toLowerCase());
    for (const header of headers) expect(request?.headers[header]).toBeTruthy();
    const timestamp = String(request?.headers["x-timestamp"]);
    expect(verifyAccessTokenRequest("client_id", timestamp, String(request?.headers["x-signature"]), merchant.publicKey)).toBe(
      true,
    );
  });

  it("expiresIn is read as the instant it prints: the example's X-TIMESTAMP + 900 s, as its JWT's exp says", () => {
    const headers = json<Record<string, string>>("access-token-b2b.request-headers.json");
    const requestedAt = Date.parse(headers["X-TIMESTAMP"] ?? "");
    const expiry = tokenExpiry(json("access-token-b2b.response.json").expiresIn, requestedAt);
    expect(expiry).toBe(Date.parse("2024-05-13T08:47:36.452Z"));
    expect(Math.round((expiry - requestedAt) / 1000)).toBe(900);
    const jwtClaims = JSON.parse(
      Buffer.from(String(json("access-token-b2b.response.json").accessToken).split(".")[1] ?? "", "base64url")
        .toString("latin1")
        .replace(/,"mer.*$/, "}"),
    );
    expect(jwtClaims.exp * 1000).toBe(Math.floor(expiry / 1000) * 1000);
  });

  it("a token request without the signed headers is refused by our simulator (400, the field named)", async () => {
    const simulator = await startDurianpaySnapSimulator({
      merchant: {
        clientKey: "client_id",
        clientSecret: "s3cret",
        publicKey: keys().publicKey,
        notificationUrl: "http://127.0.0.1:9/x",
      },
      durianpayPrivateKey: keys().privateKey,
    });
    try {
      const response = await fetch(`${simulator.baseUrl}/v1.0/access-token/b2b`, {
        method: "POST",
        body: sample("access-token-b2b.request.json"),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        responseCode: "4007302",
        responseMessage: "Invalid Mandatory Field {X-TIMESTAMP}",
      });
    } finally {
      await simulator.close();
    }
  });
});

describe("signature strings", () => {
  const examples = json<{ accessToken: { stringToSign: string }; transaction: { stringToSign: string } }>(
    "generate-signature.examples.json",
  );

  it("the token string is clientKey|X-TIMESTAMP, as printed", () => {
    expect(accessTokenStringToSign("merchant_client_key", "2024-05-13T14:53:06.991+07:00")).toBe(
      examples.accessToken.stringToSign,
    );
  });

  it("the transaction string has the printed structure METHOD:path:token:hex(sha256(body)):X-TIMESTAMP", () => {
    const [method, path, token, digest, ...timestamp] = examples.transaction.stringToSign.split(":");
    const ours = symmetricStringToSign(
      { method: "post", path: path ?? "", body: "{}", timestamp: timestamp.join(":") },
      token ?? "",
    );
    const [oursMethod, oursPath, oursToken, oursDigest, ...oursTimestamp] = ours.split(":");
    expect([oursMethod, oursPath, oursToken, oursTimestamp.join(":")]).toEqual([method, path, token, timestamp.join(":")]);
    expect(oursDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).toMatch(/^[0-9a-f]+$/); // printed cut short (39 digits)
  });
});

describe("sandbox-mode error answers", () => {
  const cases = json<{ case: string; answer: string }[]>("sandbox-mode.cases.json").filter((c) => !c.answer.includes("..."));

  it.each(cases.map((c) => [c.case, c.answer] as const))("%s is read as a refusal keeping Durianpay's code", (_, answer) => {
    const body = JSON.parse(answer) as { responseCode: string; responseMessage: string };
    const status = Number(body.responseCode.slice(0, 3));
    let error: unknown;
    try {
      readSnapAnswer("durianpay-snap", { status, text: answer });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).facts.providerCode).toBe(body.responseCode);
    if (status === 504) expect((error as DomainError).kind).toBe("DEADLINE_EXCEEDED");
    if (status >= 500 && status !== 504) expect((error as DomainError).kind).toBe("UNAVAILABLE");
  });

  it("a create refused as a duplicate reference (409xx01, the published case) is FAILED_PRECONDITION: no second VA, no adoption", async () => {
    const duplicate = cases.find((c) => c.case.startsWith("Duplicate"))?.answer ?? "";
    const token = sample("access-token-b2b.response.json");
    const { url } = await stubDurianpay((request) =>
      request.path.endsWith("/access-token/b2b") ? { status: 200, body: token } : { status: 409, body: duplicate },
    );
    const provider = createDurianpaySnapProvider({
      baseUrl: url,
      clientKey: "client_id",
      clientSecret: "s3cret",
      privateKey: keys().privateKey,
      durianpayPublicKey: keys().publicKey,
      now: () => new Date("2024-05-13T08:32:36Z"),
    });
    const refused = await provider
      .createVirtualAccount(
        {
          externalId: "0123456789abcdef0123456789abcdef",
          bankCode: "BCA",
          usage: "SINGLE",
          amount: { type: "FIXED", amount: 25_000n },
          expiresAt: new Date("2024-05-14T08:32:36Z"),
          customer: { name: "Budi Santoso" },
          numberSuffix: "",
          description: "",
        } as Parameters<typeof provider.createVirtualAccount>[0],
        signal,
      )
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).kind).toBe("FAILED_PRECONDITION");
    expect((refused as DomainError).facts.providerCode).toBe("4093801");
  });

  it("an invalid-token answer (4011101) drops the cached token: the next call asks for a new one", async () => {
    const invalid = cases.find((c) => c.case.includes("B2B token"))?.answer ?? "";
    const token = sample("access-token-b2b.response.json");
    const { url, received } = await stubDurianpay((request) =>
      request.path.endsWith("/access-token/b2b") ? { status: 200, body: token } : { status: 401, body: invalid },
    );
    const provider = createDurianpaySnapProvider({
      baseUrl: url,
      clientKey: "client_id",
      clientSecret: "s3cret",
      privateKey: keys().privateKey,
      durianpayPublicKey: keys().publicKey,
      now: () => new Date("2024-05-13T08:32:36Z"),
    });
    const va = { providerAccount: "", providerReference: "trx1.QnVkaQ", vaNumber: "88565004123456", bankCode: "PERMATA" };
    await expect(provider.getPaymentStatus(va, signal)).rejects.toBeInstanceOf(DomainError);
    await expect(provider.getPaymentStatus(va, signal)).rejects.toBeInstanceOf(DomainError);
    expect(received.filter((r) => r.path.endsWith("/access-token/b2b"))).toHaveLength(2);
  });
});

describe("notification statuses", () => {
  it("are the two values the adapter reads: 00 completed, 09 rejected", () => {
    const rows = json<{ latestTransactionStatus: string; transactionStatusDesc: string }[]>("notification-statuses.json");
    expect(rows.map((r) => [r.latestTransactionStatus, r.transactionStatusDesc])).toEqual([
      [DurianpayTransactionStatus.completed, "completed"],
      [DurianpayTransactionStatus.rejected, "rejected"],
    ]);
  });

  it("our simulator's token answer has the published answer's shape", async () => {
    const merchant = keys();
    const simulator = await startDurianpaySnapSimulator({
      merchant: {
        clientKey: "client_id",
        clientSecret: "s3cret",
        publicKey: merchant.publicKey,
        notificationUrl: "http://127.0.0.1:9/x",
      },
      durianpayPrivateKey: keys().privateKey,
    });
    try {
      const { signAccessTokenRequest } = await import("../../src/protocols/snap/signature.js");
      const { formatSnapTimestamp } = await import("../../src/protocols/snap/timestamp.js");
      const timestamp = formatSnapTimestamp(new Date());
      const response = await fetch(`${simulator.baseUrl}/v1.0/access-token/b2b`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-timestamp": timestamp,
          "x-client-key": "client_id",
          "x-signature": signAccessTokenRequest("client_id", timestamp, merchant.privateKey),
        },
        body: sample("access-token-b2b.request.json"),
      });
      const body = (await response.json()) as { expiresIn?: unknown };
      expect(response.status).toBe(200);
      expect(shapeProblems(body, json("access-token-b2b.response.json"))).toEqual([]);
      expect(body.expiresIn).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{9} \+0000 UTC$/);
    } finally {
      await simulator.close();
    }
  });
});
