import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeReference, paddedNumber } from "../../src/providers/doku-snap/transformers.js";
import { DokuSnapInbound, DokuSnapPath } from "../../src/providers/doku-snap/wire.js";
import type { InboundHttpRequest } from "../../src/providers/provider.js";
import { type DokuSnapSandboxKit, startDokuSnapKitWith } from "../../src/sandbox/doku-snap/kit.js";
import { createRequestBuilder, signal, startWebhookReceiver, type WebhookReceiver } from "../support/provider-harness.js";

/**
 * Cross-check with DOKU's official `doku-nodejs-library@1.0.52` (devDependency), using only what
 * works offline (providers.md §8.2): its signers (`tokenService.generateSignature`,
 * `generateSymmetricSignature`, `compareSignatures`), its header builder
 * (`vaService.createVaRequesHeaderDto`, `commonFunction.generateExternalId`) and its request DTOs with
 * their Joi validations. The SDK's own HTTP calls go to DOKU's hosts and are never made.
 *
 * 1. The SDK drives our simulator: a token request and a create-va built and signed by the SDK are accepted.
 * 2. What our adapter sends equals what the SDK would send for the same input: same bodies (but for
 *    the SDK's `additionalInfo.origin` telemetry and an empty `freeText`), passing the SDK's
 *    validations, with the signatures the SDK computes.
 * 3. What our simulator sends as DOKU verifies with the SDK's own checks.
 */

const require = createRequire(import.meta.url);

interface TokenService {
  generateSignature(privateKeyPem: string, clientId: string, timestamp: string): string;
  compareSignatures(signature: string, publicKeyPem: string, clientId: string, timestamp: string): boolean;
  generateSymmetricSignature(
    method: string,
    path: string,
    token: string,
    body: unknown,
    timestamp: string,
    secretKey: string,
  ): string;
  generateTimestamp(): string;
}
type Dto = Record<string, unknown> & { toObject?(): Record<string, unknown> };
type DtoClass = new (...args: unknown[]) => Dto;

const tokenService = require("doku-nodejs-library/_services/tokenService.js") as TokenService;
const vaService = require("doku-nodejs-library/_services/vaService.js") as {
  createVaRequesHeaderDto(
    channelId: string,
    clientId: string,
    token: string,
    timestamp: string,
    externalId: string,
    signature: string,
  ): {
    xTimestamp: string;
    xSignature: string;
    xPartnerId: string;
    xExternalId: string;
    channelId: string;
    authorization: string;
  };
};
const { generateExternalId } = require("doku-nodejs-library/_commons/commonFunction.js") as { generateExternalId(): string };
const Config = require("doku-nodejs-library/_commons/config.js") as {
  ACCESS_TOKEN: string;
  CREATE_VA: string;
  UPDATE_VA: string;
  DELETE_VA: string;
  CHECK_STATUS_VA: string;
};
const sdkModel = (name: string) => require(`doku-nodejs-library/_models/${name}.js`) as DtoClass;
const CreateVARequestDto = sdkModel("createVaRequestDto");
const TotalAmount = sdkModel("totalAmount");
const AdditionalInfo = sdkModel("additionalInfo");
const VirtualAccountConfig = sdkModel("virtualAccountConfig");
const CheckStatusVARequestDto = sdkModel("checkStatusVARequestDTO");
const DeleteVaRequestDto = sdkModel("deleteVaRequestDTO");
const UpdateVaDto = sdkModel("updateVaRequestDTO");
const UpdateVaAdditionalInfoDto = sdkModel("updateVaAdditionalInfoDTO");
const UpdateVaVirtualAccountConfigDto = sdkModel("updateVaVirtualAccountConfigDTO");
const PaymentNotificationRequestBodyDto = sdkModel("paymentNotificationRequestBodyDTO");

/** A DTO as the SDK serialises it (axios `JSON.stringify`s the instance), less its own telemetry. */
function asSent(dto: Dto): Record<string, unknown> {
  const json = JSON.parse(JSON.stringify(dto)) as Record<string, unknown>;
  const info = json.additionalInfo as Record<string, unknown> | undefined;
  if (info) delete info.origin;
  // `freeText` is optional (SDK README); ours leaves it out, the SDK needs an array, empty or not.
  if (json.freeText === null || (Array.isArray(json.freeText) && json.freeText.length === 0)) delete json.freeText;
  return json;
}

const header = (request: InboundHttpRequest, name: string) => request.headers[name] ?? "";
const bearer = (request: InboundHttpRequest) => header(request, "authorization").replace(/^Bearer /, "");

describe("doku-nodejs-library@1.0.52 against our adapter and simulator", () => {
  let kit: DokuSnapSandboxKit;
  let receiver: WebhookReceiver;
  const request = createRequestBuilder(() => ({
    bankCode: "CIMB",
    usage: "MULTI",
    amount: { type: "FIXED", amount: 11_500n },
    customer: { name: "Customer Name", email: "customer.email@mail.com", phone: "0816291271826" },
  }));

  beforeAll(async () => {
    receiver = await startWebhookReceiver(() => kit.provider, { path: "/webhooks/doku-snap" });
    kit = await startDokuSnapKitWith({ webhookUrl: receiver.url, now: () => new Date(), retryDelaysMs: [20], mode: "MGPC" });
  });
  afterAll(async () => {
    await kit?.close();
    await receiver?.close();
  });

  /** What our adapter sent the simulator to `path`, the last time. */
  const sent = (path: string) => {
    const found = kit.simulator.received.filter((r) => r.path === path).at(-1);
    if (!found) throw new Error(`nothing sent to ${path}`);
    return found;
  };

  it("the SDK's token request and create-va, built and signed by the SDK, are accepted by our simulator", async () => {
    const { clientId, secretKey, merchantPrivateKey } = kit.secrets;
    const timestamp = tokenService.generateTimestamp();
    const tokenAnswer = await fetch(`${kit.simulator.baseUrl}${Config.ACCESS_TOKEN}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "X-CLIENT-KEY": clientId,
        "X-TIMESTAMP": timestamp,
        "X-SIGNATURE": tokenService.generateSignature(merchantPrivateKey, clientId, timestamp),
      },
      body: JSON.stringify({ grantType: "client_credentials" }),
    });
    const token = (await tokenAnswer.json()) as { responseCode: string; accessToken: string };
    expect(token.responseCode).toBe("2007300");

    const dto = new CreateVARequestDto(
      "   19008",
      "00000000000000000001".slice(-10),
      `   19008${"0000000001"}`,
      "Customer Name",
      "customer.email@mail.com",
      "0816291271826",
      `sdk-${Date.now()}`,
      new TotalAmount("11500.00", "IDR"),
      new AdditionalInfo("VIRTUAL_ACCOUNT_BCA", new VirtualAccountConfig(false)),
      "C",
      "2099-01-01T10:55:00+07:00",
      [{ english: "Free text", indonesia: "Tulisan Bebas" }],
    );
    expect(() => (dto as { validateVaRequestDto(): void }).validateVaRequestDto()).not.toThrow();
    const createTimestamp = tokenService.generateTimestamp();
    const signature = tokenService.generateSymmetricSignature(
      "POST",
      Config.CREATE_VA,
      token.accessToken,
      dto,
      createTimestamp,
      secretKey,
    );
    const headers = vaService.createVaRequesHeaderDto(
      "VIRTUAL_ACCOUNT_BCA",
      clientId,
      token.accessToken,
      createTimestamp,
      generateExternalId(),
      signature,
    );
    const created = await fetch(`${kit.simulator.baseUrl}${Config.CREATE_VA}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "X-PARTNER-ID": headers.xPartnerId,
        "X-TIMESTAMP": headers.xTimestamp,
        "X-SIGNATURE": headers.xSignature,
        Authorization: `Bearer ${headers.authorization}`,
        "X-EXTERNAL-ID": headers.xExternalId,
        "CHANNEL-ID": headers.channelId,
      },
      body: JSON.stringify(dto),
    });
    expect(await created.json()).toMatchObject({
      responseCode: "2002700",
      virtualAccountData: { virtualAccountNo: "   190080000000001" },
    });

    // The same request re-signed with a key one byte off is refused.
    const forged = tokenService.generateSymmetricSignature(
      "POST",
      Config.CREATE_VA,
      token.accessToken,
      dto,
      createTimestamp,
      `${secretKey}x`,
    );
    const refused = await fetch(`${kit.simulator.baseUrl}${Config.CREATE_VA}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "X-PARTNER-ID": clientId,
        "X-TIMESTAMP": createTimestamp,
        "X-SIGNATURE": forged,
        Authorization: `Bearer ${token.accessToken}`,
        "X-EXTERNAL-ID": generateExternalId(),
        "CHANNEL-ID": "SDK",
      },
      body: JSON.stringify(dto),
    });
    expect(refused.status).toBe(401);
  });

  it("our paths are the SDK's", () => {
    expect(DokuSnapPath).toMatchObject({
      accessToken: Config.ACCESS_TOKEN,
      createVa: Config.CREATE_VA,
      updateVa: Config.UPDATE_VA,
      deleteVa: Config.DELETE_VA,
      checkStatus: Config.CHECK_STATUS_VA,
    });
  });

  it("our token request and create-va equal the SDK's for the same input, body, signature and all", async () => {
    const { clientId, secretKey, merchantPrivateKey } = kit.secrets;
    const input = request();
    const created = await kit.provider.createVirtualAccount(input, signal);

    const tokenRequest = sent(DokuSnapPath.accessToken);
    const tokenTimestamp = header(tokenRequest, "x-timestamp");
    expect(header(tokenRequest, "x-client-key")).toBe(clientId);
    expect(header(tokenRequest, "x-signature")).toBe(
      tokenService.generateSignature(merchantPrivateKey, clientId, tokenTimestamp),
    );

    const ours = sent(DokuSnapPath.createVa);
    const body = JSON.parse(ours.rawBody.toString("utf8")) as Record<string, never>;
    const { customerNo } = decodeReference(created.providerReference);
    const sdk = new CreateVARequestDto(
      "   19008",
      customerNo,
      paddedNumber("19008", customerNo),
      input.customer.name,
      input.customer.email,
      input.customer.phone,
      input.externalId,
      new TotalAmount("11500.00", "IDR"),
      new AdditionalInfo("VIRTUAL_ACCOUNT_CIMB", new VirtualAccountConfig(true)),
      "C",
      body.expiredDate,
      // The constructor's default `freeText: null` fails the SDK's own validation ("must be an array").
      [],
    );
    expect(() => (sdk as { validateVaRequestDto(): void }).validateVaRequestDto()).not.toThrow();
    // VirtualAccountConfig serialises its unset min/max as absent, like ours.
    expect(ours.rawBody.toString("utf8")).toBe(JSON.stringify(asSent(sdk)));
    const timestamp = header(ours, "x-timestamp");
    expect(header(ours, "x-signature")).toBe(
      tokenService.generateSymmetricSignature("POST", Config.CREATE_VA, bearer(ours), asSent(sdk), timestamp, secretKey),
    );
    expect(header(ours, "x-partner-id")).toBe(clientId);
  });

  it("our update-va, delete-va and check status pass the SDK's validations, with the SDK's signatures", async () => {
    const { secretKey } = kit.secrets;
    const created = await kit.provider.createVirtualAccount(request(), signal);
    const ref = { ...created, bankCode: "CIMB" };
    const { trxId, customerNo } = decodeReference(created.providerReference);
    const number = paddedNumber("19008", customerNo);

    await kit.provider.updateVirtualAccount?.(ref, { expiresAt: new Date(Date.now() + 86_400_000) }, signal);
    const update = sent(DokuSnapPath.updateVa);
    const updateBody = JSON.parse(update.rawBody.toString("utf8")) as Record<string, never>;
    const sdkUpdate = new UpdateVaDto(
      "   19008",
      customerNo,
      number,
      null,
      null,
      null,
      trxId,
      new TotalAmount(null, null),
      new UpdateVaAdditionalInfoDto("VIRTUAL_ACCOUNT_CIMB", new UpdateVaVirtualAccountConfigDto("ACTIVE")),
      "C",
      updateBody.expiredDate,
    );
    expect(() => (sdkUpdate as { validateUpdateVaRequestDto(): void }).validateUpdateVaRequestDto()).not.toThrow();
    expect(updateBody).toEqual(JSON.parse(JSON.stringify(sdkUpdate)));
    expect(header(update, "x-signature")).toBe(
      tokenService.generateSymmetricSignature(
        "PUT",
        Config.UPDATE_VA,
        bearer(update),
        updateBody,
        header(update, "x-timestamp"),
        secretKey,
      ),
    );

    await kit.provider.checkStatus(ref, signal);
    const status = sent(DokuSnapPath.checkStatus);
    const statusBody = JSON.parse(status.rawBody.toString("utf8")) as Record<string, unknown>;
    const sdkStatus = new CheckStatusVARequestDto("   19008", customerNo, number, null, null, { trxId });
    expect(() => (sdkStatus as { validateCheckStatusVaRequestDto(): void }).validateCheckStatusVaRequestDto()).not.toThrow();
    expect(status.rawBody.toString("utf8")).toBe(JSON.stringify(sdkStatus));
    expect(header(status, "x-signature")).toBe(
      tokenService.generateSymmetricSignature(
        "POST",
        Config.CHECK_STATUS_VA,
        bearer(status),
        statusBody,
        header(status, "x-timestamp"),
        secretKey,
      ),
    );

    await kit.provider.cancelVirtualAccount(ref, signal);
    const deletion = sent(DokuSnapPath.deleteVa);
    const sdkDelete = new DeleteVaRequestDto("   19008", customerNo, number, trxId, "VIRTUAL_ACCOUNT_CIMB");
    expect(() => (sdkDelete as { validateDeleteVaRequest(): void }).validateDeleteVaRequest()).not.toThrow();
    expect(deletion.rawBody.toString("utf8")).toBe(JSON.stringify(sdkDelete.toObject?.()));
    expect(header(deletion, "x-signature")).toBe(
      tokenService.generateSymmetricSignature(
        "DELETE",
        Config.DELETE_VA,
        bearer(deletion),
        sdkDelete.toObject?.(),
        header(deletion, "x-timestamp"),
        secretKey,
      ),
    );
  });

  it("what our simulator sends as DOKU verifies with the SDK: its token request and its notification", async () => {
    const { clientId, secretKey, dokuPublicKey } = kit.secrets;
    const created = await kit.provider.createVirtualAccount(request(), signal);
    receiver.reset();
    const paid = await kit.simulator.pay(paddedNumber("19008", decodeReference(created.providerReference).customerNo));
    expect(paid.ok).toBe(true);
    await kit.idle();
    const tokenRequest = receiver.requests.find((r) => r.path.endsWith(DokuSnapInbound.accessTokenSuffix));
    const notification = receiver.requests.find((r) => r.path.endsWith(DokuSnapInbound.notification));
    if (!tokenRequest || !notification) throw new Error("DOKU did not call us");
    // The SDK's `Snap.validateSignature`: DOKU's key over `<our clientId>|X-TIMESTAMP`.
    expect(
      tokenService.compareSignatures(
        header(tokenRequest, "x-signature"),
        dokuPublicKey,
        clientId,
        header(tokenRequest, "x-timestamp"),
      ),
    ).toBe(true);
    const body = JSON.parse(notification.rawBody.toString("utf8")) as Record<string, never>;
    expect(header(notification, "x-signature")).toBe(
      tokenService.generateSymmetricSignature(
        "POST",
        notification.path,
        bearer(notification),
        body,
        header(notification, "x-timestamp"),
        secretKey,
      ),
    );
    // The body has every field of the SDK's notification DTO.
    const dtoFields = Object.keys(new PaymentNotificationRequestBodyDto());
    expect(Object.keys(body)).toEqual(expect.arrayContaining(dtoFields));
    expect(receiver.outcomes).toEqual(["RECORDED"]);
  });
});
