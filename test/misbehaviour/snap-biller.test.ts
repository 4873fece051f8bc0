import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventCause, PaymentOutcome, VaUsage } from "../../src/gen/va/v1/va_pb.js";
import { BillerPath } from "../../src/providers/snap-biller/wire.js";
import type { BankSimulator } from "../../src/sandbox/snap-biller/bank.js";
import { type BillerGateway, startBillerGateway } from "../support/biller-gateway.js";
import { postgresUnavailableReason } from "../support/databases.js";
import { eventually, takeEvents } from "../support/fixtures.js";
import type { TestDialect, TestGateway } from "../support/gateway.js";

/**
 * The misbehaviour matrix for the SNAP biller flow, where the "callback" is the bank's synchronous
 * Payment (25): the bank simulator misbehaves the way banks do, against a real gateway on a real
 * database, and afterwards the ledger must equal what the bank took. VAs are registered at the bank
 * (Create VA), so the bank may also pay by trxId without an inquiry (§2.6).
 */

const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] PostgreSQL snap-biller misbehaviour tests: ${postgresSkip}`);

const BIN = "77123";
const MINUTE = 60_000;
const TIMER_MS = 5 * MINUTE;

describe.each<TestDialect>(["sqlite", "postgresql"])("snap-biller misbehaviour on %s", (dialect) => {
  const skip = dialect === "postgresql" && postgresSkip !== undefined;
  let gateway: TestGateway;
  let client: BillerGateway["client"];
  let bank: BankSimulator;
  let newVa: BillerGateway["newVa"];
  let payments: BillerGateway["payments"];

  beforeAll(async () => {
    if (skip) return;
    ({ gateway, client, bank, newVa, payments } = await startBillerGateway(dialect, {
      partnerServiceId: BIN,
      bankCreateVaPath: BillerPath.createVa,
    }));
  });
  afterAll(async () => {
    await gateway?.stop();
  });
  /** What the bank took for this number and still considers paid: the provider's truth. */
  const bankTruth = (vaNumber: string) =>
    bank.transfers
      .filter((t) => t.virtualAccountNo === bank.identityOf(vaNumber).virtualAccountNo)
      .filter((t) => t.state === "COMPLETED" || t.state === "UNCONFIRMED")
      .map((t) => [t.amount, t.inquiryRequestId]);
  const ledger = async (id: string) => (await payments(id)).map((p) => [p.amount, p.providerPaymentReference]);

  it.skipIf(skip)("duplicated with the same X-EXTERNAL-ID and body: the first answer again, one payment", async () => {
    const va = await newVa();
    const transfer = await bank.transfer(va.vaNumber);
    const [first] = transfer.payments;
    if (!first) throw new Error("no payment");
    const again = await bank.send("payment", first.sent.body, { externalId: first.sent.headers["X-EXTERNAL-ID"] });
    expect([again.status, again.body]).toEqual([first.status, first.body]);
    // The bank's advice retry under the same id (flagAdvise "Y"): the same payment, the first answer.
    const advice = JSON.stringify({ ...JSON.parse(first.sent.body), flagAdvise: "Y" });
    const advised = await bank.send("payment", advice, { externalId: first.sent.headers["X-EXTERNAL-ID"] });
    expect([advised.status, advised.body]).toEqual([first.status, first.body]);
    expect(await ledger(va.id)).toEqual(bankTruth(va.vaNumber));
    expect(await payments(va.id)).toHaveLength(1);
  });

  it.skipIf(skip)("an answer lost, retried under the same X-EXTERNAL-ID with flagAdvise Y: completed, one payment", async () => {
    const va = await newVa();
    const transfer = await bank.transfer(va.vaNumber, { loseAnswers: 1, retrySameExternalId: true });
    expect(transfer.state).toBe("COMPLETED");
    expect(transfer.payments).toHaveLength(2);
    expect(transfer.payments[1]?.body).toBe(transfer.payments[0]?.body);
    expect(await ledger(va.id)).toEqual(bankTruth(va.vaNumber));
  });

  it.skipIf(skip)("a different request under a used X-EXTERNAL-ID: 4092500, nothing recorded", async () => {
    const va = await newVa();
    const transfer = await bank.transfer(va.vaNumber);
    const usedId = transfer.payments[0]?.sent.headers["X-EXTERNAL-ID"];
    const other = await newVa();
    const inquiryRequestId = `inq-${crypto.randomUUID()}`;
    expect((await bank.send("inquiry", bank.inquiryBody(other.vaNumber, inquiryRequestId))).responseCode).toBe("2002400");
    const reused = await bank.send("payment", bank.paymentBody(other.vaNumber, inquiryRequestId, 25_000n), {
      externalId: usedId,
    });
    expect([reused.status, reused.responseCode]).toEqual([409, "4092500"]);
    expect(await payments(other.id)).toHaveLength(0);
    expect(await ledger(va.id)).toEqual(bankTruth(va.vaNumber));
  });

  it.skipIf(skip)(
    "stale timestamp: a new payment is refused 4012500 and the bank's truth comes back through Inquiry Status; an answered one gets its answer",
    async () => {
      const va = await newVa();
      // The bank debits, then its payment reaches us 10 minutes late with its original timestamp.
      const transfer = await bank.transfer(va.vaNumber, { deliverPayment: false });
      const sentAt = gateway.now();
      gateway.advanceClock(10 * MINUTE);
      const late = await bank.send("payment", bank.paymentBody(va.vaNumber, transfer.inquiryRequestId, 25_000n), {
        timestamp: sentAt,
      });
      expect([late.status, late.responseCode, late.json?.responseMessage]).toEqual([
        401,
        "4012500",
        "Unauthorized. Stale Timestamp",
      ]);
      expect(await payments(va.id)).toHaveLength(0);
      const run = await gateway.snapBiller?.poller.runOnce();
      expect(run?.paid).toBe(1);
      expect(await ledger(va.id)).toEqual(bankTruth(va.vaNumber));
      const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va.id } }, 3);
      expect(events[2]?.cause).toBe(EventCause.STATUS_POLL);

      // A payment we did answer, re-sent late with its first timestamp: the same answer, nothing new.
      const answered = await newVa();
      const done = await bank.transfer(answered.vaNumber);
      const [first] = done.payments;
      if (!first) throw new Error("no payment");
      gateway.advanceClock(10 * MINUTE);
      const replay = await bank.send("payment", first.sent.body, { timestamp: new Date(gateway.now().getTime() - 10 * MINUTE) });
      expect([replay.status, replay.body]).toEqual([first.status, first.body]);
      expect(await ledger(answered.id)).toEqual(bankTruth(answered.vaNumber));
    },
  );

  it.skipIf(skip)(
    "paid amount ≠ bill: an open or in-range amount is recorded as paid; outside the range 4042513, reversed, nothing recorded",
    async () => {
      const open = await newVa({ amount: { rule: { case: "open", value: {} } } });
      const openTransfer = await bank.transfer(open.vaNumber, { amount: 12_345n });
      expect(openTransfer.state).toBe("COMPLETED");
      expect((await payments(open.id)).map((p) => [p.amount, p.outcome])).toEqual([[12_345n, PaymentOutcome.ACCEPTED]]);

      const range = await newVa({
        usage: VaUsage.MULTI,
        amount: { rule: { case: "range", value: { min: 10_000n, max: 50_000n } } },
      });
      const inRange = await bank.transfer(range.vaNumber, { amount: 30_000n });
      expect(inRange.state).toBe("COMPLETED");
      const outside = await bank.transfer(range.vaNumber, { amount: 60_000n });
      expect([outside.state, outside.payments[0]?.responseCode]).toEqual(["REVERSED", "4042513"]);
      expect(await ledger(range.id)).toEqual(bankTruth(range.vaNumber));
      expect((await payments(range.id)).map((p) => p.amount)).toEqual([30_000n]);
    },
  );

  it.skipIf(skip)(
    "payment by trxId without an inquiry, for a VA registered at the bank: recorded once; without the trxId 4042501",
    async () => {
      const va = await newVa();
      const transfer = await bank.transfer(va.vaNumber, { withoutInquiry: true, loseAnswers: 1 });
      expect(transfer.state).toBe("COMPLETED");
      expect(transfer.trxId).toBeDefined();
      expect(transfer.payments[1]?.body).toBe(transfer.payments[0]?.body);
      expect(JSON.parse(transfer.payments[0]?.body ?? "{}").virtualAccountData.trxId).toBe(transfer.trxId);
      expect(await ledger(va.id)).toEqual(bankTruth(va.vaNumber));

      const unpaid = await newVa();
      const noTrxId = await bank.send("payment", bank.paymentBody(unpaid.vaNumber, `pay-${crypto.randomUUID()}`, 25_000n));
      expect([noTrxId.status, noTrxId.responseCode]).toEqual([404, "4042501"]);
      const wrongTrxId = await bank.send(
        "payment",
        bank.paymentBody(unpaid.vaNumber, `pay-${crypto.randomUUID()}`, 25_000n, "N", "not-ours"),
      );
      expect(wrongTrxId.responseCode).toBe("4042501");
      expect(await payments(unpaid.id)).toHaveLength(0);
    },
  );

  it.skipIf(skip)(
    "payment lost: after an inquiry, Inquiry Status records it; without one, the reconciler does (STATUS_POLL)",
    async () => {
      const inquired = await newVa();
      await bank.transfer(inquired.vaNumber, { deliverPayment: false });
      gateway.advanceClock(TIMER_MS + MINUTE);
      await gateway.snapBiller?.poller.runOnce();
      expect(await ledger(inquired.id)).toEqual(bankTruth(inquired.vaNumber));

      const expiresAt = timestampFromDate(new Date(gateway.now().getTime() + 5 * MINUTE));
      const registered = await newVa({ expiresAt });
      await bank.transfer(registered.vaNumber, { withoutInquiry: true, deliverPayment: false });
      expect(await payments(registered.id)).toHaveLength(0);
      await gateway.reconciler.runOnce();
      await eventually(async () => ((await payments(registered.id)).length === 1 ? true : undefined));
      expect(await ledger(registered.id)).toEqual(bankTruth(registered.vaNumber));
      const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: registered.id } }, 2);
      expect(events[1]?.cause).toBe(EventCause.STATUS_POLL);
    },
  );

  it.skipIf(skip)(
    "the bank's payment notice arriving after the timer, for a payment the reconciler already recorded → 2002500, recorded once",
    async () => {
      const va = await newVa({ expiresAt: timestampFromDate(new Date(gateway.now().getTime() + 5 * MINUTE)) });
      const transfer = await bank.transfer(va.vaNumber, { deliverPayment: false });
      gateway.advanceClock(TIMER_MS + MINUTE);
      await gateway.reconciler.runOnce();
      expect(await ledger(va.id)).toEqual(bankTruth(va.vaNumber));
      const late = await bank.send("payment", bank.paymentBody(va.vaNumber, transfer.inquiryRequestId, 25_000n));
      expect([late.status, late.responseCode]).toEqual([200, "2002500"]);
      expect(await ledger(va.id)).toEqual(bankTruth(va.vaNumber));
    },
  );

  it.skipIf(skip)("forged signature: 4012500, nothing recorded, its X-EXTERNAL-ID not burnt", async () => {
    const va = await newVa();
    const inquiryRequestId = `inq-${crypto.randomUUID()}`;
    expect((await bank.send("inquiry", bank.inquiryBody(va.vaNumber, inquiryRequestId))).responseCode).toBe("2002400");
    const genuine = bank.paymentBody(va.vaNumber, inquiryRequestId, 25_000n);
    const externalId = `${Date.now()}${dialect === "sqlite" ? 3 : 4}0000000000009`;
    const forged = await bank.send("payment", genuine, {
      externalId,
      sentBody: JSON.stringify({ ...genuine, paidAmount: { value: "99.00", currency: "IDR" } }),
    });
    expect([forged.status, forged.responseCode, forged.json?.responseMessage]).toEqual([
      401,
      "4012500",
      "Unauthorized. Invalid Signature",
    ]);
    const wrongPath = await bank.send("payment", genuine, { externalId, signedPath: "/v1.0/transfer-va/inquiry" });
    expect(wrongPath.responseCode).toBe("4012500");
    expect(await payments(va.id)).toHaveLength(0);
    const real = await bank.send("payment", genuine, { externalId });
    expect(real.responseCode).toBe("2002500");
    expect((await payments(va.id)).map((p) => p.amount)).toEqual([25_000n]);
  });
});
