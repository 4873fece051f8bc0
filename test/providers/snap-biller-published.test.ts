import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSnapBillerProvider } from "../../src/providers/snap-biller/adapter.js";
import { BillerPath } from "../../src/providers/snap-biller/wire.js";
import type { BankSimulator } from "../../src/sandbox/snap-biller/bank.js";
import { type BillerGateway, startBillerGateway } from "../support/biller-gateway.js";
import { type ShapeOptions, shapeProblems } from "../support/json-shape.js";

/**
 * The SNAP VA samples the standard publishes (test/fixtures/snap-biller/SOURCES.md), replayed:
 * inbound ones through the real biller routes of a started gateway, signed by the bank simulator
 * over their verbatim bytes; the bank's Inquiry Status answer through the adapter's parsing; and our
 * own requests and answers checked to have the samples' shape.
 */

const fixture = (name: string) => readFileSync(new URL(`../fixtures/snap-biller/${name}`, import.meta.url), "utf8");
const sample = (name: string) => JSON.parse(fixture(name)) as Record<string, unknown>;

/** The sample's BIN, so its numbers reach the VA lookup (its 20-digit customerNo cannot be one of ours). */
const BIN = "088899";

/**
 * How our messages are held against the samples: no key the sample lacks and no value of another
 * JSON type, though optional fields may be left out; `exempt` lists paths the SNAP field table
 * (providers.md §2.6) allows although the sample lacks them or types them otherwise.
 */
const asDocumented = (...exempt: string[]): ShapeOptions => ({ allowMissing: true, exempt });

describe("snap-biller: the published SNAP samples", () => {
  let biller: BillerGateway;
  let bank: BankSimulator;
  const client = () => biller.client;
  const newVa = () => biller.newVa();

  beforeAll(async () => {
    biller = await startBillerGateway("sqlite", { partnerServiceId: BIN, bankCreateVaPath: BillerPath.createVa });
    bank = biller.bank;
  });
  afterAll(async () => {
    await biller?.gateway.stop();
  });

  it("the Payment sample, verbatim, is read (basic-format trxDateTime, numeric paymentType) and answered 4042512: not our VA", async () => {
    const answer = await bank.send("payment", fixture("aspi-payment-request.json"));
    expect([answer.status, answer.responseCode, answer.json?.responseMessage]).toEqual([
      404,
      "4042512",
      "Invalid Bill/Virtual Account Not Found",
    ]);
  });

  it("the Inquiry sample, verbatim, is refused 4002401: its partnerServiceId and virtualAccountNo name different digits", async () => {
    const answer = await bank.send("inquiry", fixture("aspi-inquiry-request.json"));
    expect([answer.status, answer.responseCode, answer.json?.responseMessage]).toEqual([
      400,
      "4002401",
      "Invalid Field Format {virtualAccountNo}",
    ]);
  });

  it("a bank sending every field of the samples pays one of our VAs: inquiry, payment, one payment recorded", async () => {
    const va = await newVa();
    const identity = bank.identityOf(va.vaNumber);
    const inquiryRequestId = `sample-${crypto.randomUUID()}`;
    const inquiry = {
      ...sample("aspi-inquiry-request.json"),
      ...identity,
      amount: { value: "25000.00", currency: "IDR" },
      inquiryRequestId,
    };
    const inquired = await bank.send("inquiry", JSON.stringify(inquiry));
    expect(inquired.responseCode, inquired.body).toBe("2002400");
    const money = { value: "25000.00", currency: "IDR" };
    const payment = {
      ...sample("aspi-payment-request.json"),
      ...identity,
      paymentRequestId: inquiryRequestId,
      paidAmount: money,
      cumulativePaymentAmount: money,
      totalAmount: money,
    };
    delete (payment as Record<string, unknown>).trxId;
    const paid = await bank.send("payment", JSON.stringify(payment));
    expect(paid.responseCode, paid.body).toBe("2002500");
    expect(paid.json?.virtualAccountData).toMatchObject({
      trxDateTime: "20201231T235959Z",
      flagAdvise: "Y",
      paymentFlagStatus: "00",
    });
    const { payments } = await client().getPaymentStatus({ virtualAccountId: va.id });
    expect(payments.map((p) => [p.amount, p.providerPaymentReference])).toEqual([[25_000n, inquiryRequestId]]);
  });

  it("our inquiry and payment answers, and the bank simulator's requests, have the samples' shape", async () => {
    const va = await newVa();
    const transfer = await bank.transfer(va.vaNumber);
    expect(transfer.state).toBe("COMPLETED");
    const [payment] = transfer.payments;
    if (!payment) throw new Error("no payment sent");
    // The field table (§2.6) spells `trxDateInit` and puts `additionalInfo` in virtualAccountData too.
    expect(
      shapeProblems(JSON.parse(transfer.inquiry.sent.body), sample("aspi-inquiry-request.json"), asDocumented("trxDateInit")),
    ).toEqual([]);
    expect(
      shapeProblems(
        JSON.parse(transfer.inquiry.body),
        sample("aspi-inquiry-response.json"),
        asDocumented("virtualAccountData.additionalInfo"),
      ),
    ).toEqual([]);
    expect(shapeProblems(JSON.parse(payment.sent.body), sample("aspi-payment-request.json"), asDocumented())).toEqual([]);
    expect(shapeProblems(JSON.parse(payment.body), sample("aspi-payment-response.json"), asDocumented())).toEqual([]);
  });

  it("the bank simulator's Inquiry Status answer has the sample's shape", async () => {
    const va = await newVa();
    const transfer = await bank.transfer(va.vaNumber, { deliverPayment: false });
    const status = await biller.gateway.snapBiller?.kit.provider.inquirePaymentStatus(
      { virtualAccountNo: transfer.virtualAccountNo, inquiryRequestId: transfer.inquiryRequestId },
      AbortSignal.timeout(5_000),
    );
    if (status?.state !== "PAID") throw new Error(`expected PAID, got ${JSON.stringify(status)}`);
    expect(shapeProblems(JSON.parse(status.rawAnswer), sample("aspi-inquiry-status-response.json"), asDocumented())).toEqual([]);
  });

  describe("the Inquiry Status sample answer, verbatim, through the adapter", () => {
    let bankUrl: string;
    const received: string[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        received.push(Buffer.concat(chunks).toString("utf8"));
        response.writeHead(200, { "content-type": "application/json" }).end(fixture("aspi-inquiry-status-response.json"));
      });
    });
    const pem = () =>
      generateKeyPairSync("rsa", {
        modulusLength: 2048,
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" },
      });
    const provider = (createVaPath?: string) =>
      createSnapBillerProvider({
        partnerServiceId: BIN,
        customerNoDigits: 17,
        bankPartnerId: "BANK-TEST",
        bankPublicKey: pem().publicKey,
        tokenSecret: Buffer.alloc(32, 1),
        bank: { baseUrl: bankUrl, partnerId: "VA-GATEWAY", privateKey: pem().privateKey, channelId: "VAGW", createVaPath },
      });

    beforeAll(async () => {
      server.listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      bankUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("reads it as paid: amount exact, basic-format transactionDate, referenceNo; our request has the sample's shape", async () => {
      const status = await provider().inquirePaymentStatus(
        { virtualAccountNo: "  08889912345678901234567890", inquiryRequestId: "abcdef-123456-abcdef" },
        AbortSignal.timeout(5_000),
      );
      expect(status).toMatchObject({
        state: "PAID",
        amount: 12_345_678n,
        paidAt: new Date("2020-12-30T23:59:59Z"),
        referenceNo: "123456789012345",
      });
      // The sample request has customerNo as a number; the field table says String(20), as we send it.
      const ours = JSON.parse(received.at(-1) ?? "{}");
      expect(shapeProblems(ours, sample("aspi-inquiry-status-request.json"), asDocumented("customerNo"))).toEqual([]);
    });

    it("lists it as a payment of the VA (reconciliation of a VA registered at the bank)", async () => {
      const ref = { providerAccount: BIN, providerReference: "trx-1", vaNumber: `${BIN}12345678901234567`, bankCode: "BCA" };
      const listed = await provider(BillerPath.createVa).fetchPayments?.(ref, AbortSignal.timeout(5_000));
      expect(listed).toEqual([
        expect.objectContaining({
          providerPaymentRef: "abcdef-123456-abcdef",
          providerVaId: "trx-1",
          amount: 12_345_678n,
          paidAt: new Date("2020-12-30T23:59:59Z"),
        }),
      ]);
    });
  });
});
