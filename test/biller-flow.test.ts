import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventCause, EventType, PaymentOutcome, VaUsage, VirtualAccountStatus } from "../src/gen/va/v1/va_pb.js";
import type { BankSimulator, SnapExchange } from "../src/sandbox/snap-biller/bank.js";
import { type BillerGateway, startBillerGateway } from "./support/biller-gateway.js";
import { postgresUnavailableReason } from "./support/databases.js";
import { takeEvents } from "./support/fixtures.js";
import type { TestDialect, TestGateway } from "./support/gateway.js";

/**
 * The SNAP biller flow end to end: a real gateway on a real database, the bank simulator calling
 * our /v1.0/transfer-va/{inquiry,payment} over HTTP and answering our Inquiry Status (26).
 */

const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] PostgreSQL biller-flow tests: ${postgresSkip}`);

const BIN = "88899";
const PADDED_BIN = "   88899";
const TIMER_MS = 5 * 60_000;

describe.each<TestDialect>(["sqlite", "postgresql"])("SNAP biller flow on %s", (dialect) => {
  const skip = dialect === "postgresql" && postgresSkip !== undefined;
  let gateway: TestGateway;
  let client: BillerGateway["client"];
  let bank: BankSimulator;
  let newVa: BillerGateway["newVa"];
  let payments: BillerGateway["payments"];

  beforeAll(async () => {
    if (skip) return;
    ({ gateway, client, bank, newVa, payments } = await startBillerGateway(dialect, { partnerServiceId: BIN }));
  });
  afterAll(async () => {
    await gateway?.stop();
  });
  const inquiryIdOf = (exchange: SnapExchange) =>
    String((exchange.json?.virtualAccountData as { inquiryRequestId?: string })?.inquiryRequestId);

  /** An inquiry that succeeded, for the tests that are about the payment. */
  async function inquire(vaNumber: string, inquiryRequestId = `inq-${crypto.randomUUID()}`) {
    const answer = await bank.send("inquiry", bank.inquiryBody(vaNumber, inquiryRequestId));
    expect(answer.responseCode, answer.body).toBe("2002400");
    return inquiryRequestId;
  }

  it.skipIf(skip)("inquiry → payment → recorded once → streamed, with byte-exact SNAP answers", async () => {
    const va = await newVa();
    expect(va.vaNumber).toMatch(new RegExp(`^${BIN}\\d{18}$`));
    const customerNo = va.vaNumber.slice(BIN.length);

    const transfer = await bank.transfer(va.vaNumber);
    expect(transfer.state).toBe("COMPLETED");
    const id = transfer.inquiryRequestId;
    expect(transfer.inquiry.status).toBe(200);
    expect(transfer.inquiry.body).toBe(
      `{"responseCode":"2002400","responseMessage":"Successful","virtualAccountData":{"inquiryStatus":"00","inquiryReason":{"english":"Success","indonesia":"Sukses"},"partnerServiceId":"${PADDED_BIN}","customerNo":"${customerNo}","virtualAccountNo":"${PADDED_BIN}${customerNo}","virtualAccountName":"Budi Santoso","inquiryRequestId":"${id}","totalAmount":{"value":"25000.00","currency":"IDR"},"virtualAccountTrxType":"C","additionalInfo":{}},"additionalInfo":{}}`,
    );
    const [payment] = transfer.payments;
    const sent = JSON.parse(payment?.sent.body ?? "{}") as { trxDateTime: string; referenceNo: string };
    expect(payment?.status).toBe(200);
    expect(payment?.body).toBe(
      `{"responseCode":"2002500","responseMessage":"Successful","virtualAccountData":{"paymentFlagReason":{"english":"Success","indonesia":"Sukses"},"partnerServiceId":"${PADDED_BIN}","customerNo":"${customerNo}","virtualAccountNo":"${PADDED_BIN}${customerNo}","virtualAccountName":"Budi Santoso","paymentRequestId":"${id}","paidAmount":{"value":"25000.00","currency":"IDR"},"totalAmount":{"value":"25000.00","currency":"IDR"},"trxDateTime":"${sent.trxDateTime}","referenceNo":"${sent.referenceNo}","flagAdvise":"N","paymentFlagStatus":"00"},"additionalInfo":{}}`,
    );

    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va.id } }, 3);
    expect(events.map((e) => e.type)).toEqual([
      EventType.VIRTUAL_ACCOUNT_CREATED,
      EventType.VIRTUAL_ACCOUNT_INQUIRED,
      EventType.PAYMENT_RECEIVED,
    ]);
    expect(events[1]?.virtualAccount?.status).toBe(VirtualAccountStatus.INQUIRED);
    expect(events[1]?.cause).toBe(EventCause.CALLBACK);
    expect(events[2]?.cause).toBe(EventCause.CALLBACK);
    expect(events[2]?.payment?.amount).toBe(25_000n);
    expect(events[2]?.payment?.outcome).toBe(PaymentOutcome.ACCEPTED);
    expect(events[2]?.payment?.providerPaymentReference).toBe(id);
    expect(events[2]?.virtualAccount?.status).toBe(VirtualAccountStatus.COMPLETED);
    expect(await payments(va.id)).toHaveLength(1);
  });

  it.skipIf(skip)(
    "payment without an inquiry (no VA registered at the bank), or with another paymentRequestId: 4042501, nothing recorded",
    async () => {
      const va = await newVa();
      const without = await bank.send("payment", bank.paymentBody(va.vaNumber, "never-inquired", 25_000n));
      expect([without.status, without.responseCode]).toEqual([404, "4042501"]);

      await inquire(va.vaNumber, "inquiry-one");
      const wrongId = await bank.send("payment", bank.paymentBody(va.vaNumber, "inquiry-two", 25_000n));
      expect([wrongId.status, wrongId.responseCode]).toEqual([404, "4042501"]);
      // An inquiry id of another VA is no better.
      const other = await newVa();
      const foreign = await bank.send("payment", bank.paymentBody(other.vaNumber, "inquiry-one", 25_000n));
      expect(foreign.responseCode).toBe("4042501");
      expect(await payments(va.id)).toHaveLength(0);
      expect(await payments(other.id)).toHaveLength(0);
    },
  );

  it.skipIf(skip)("wrong amount: 4042513 and nothing recorded; the inquiry can still be paid right", async () => {
    const va = await newVa();
    const refused = await bank.transfer(va.vaNumber, { amount: 24_999n });
    expect(refused.state).toBe("REVERSED");
    expect([refused.payments[0]?.status, refused.payments[0]?.responseCode]).toEqual([404, "4042513"]);
    const over = await bank.send("payment", bank.paymentBody(va.vaNumber, refused.inquiryRequestId, 25_001n));
    expect(over.responseCode).toBe("4042513");
    expect(await payments(va.id)).toHaveLength(0);

    const right = await bank.send("payment", bank.paymentBody(va.vaNumber, refused.inquiryRequestId, 25_000n));
    expect(right.responseCode).toBe("2002500");
    expect(await payments(va.id)).toHaveLength(1);
  });

  it.skipIf(skip)("range and open bills: the typed amount is quoted and must be paid", async () => {
    const range = await newVa({
      usage: VaUsage.MULTI,
      amount: { rule: { case: "range", value: { min: 10_000n, max: 50_000n } } },
    });
    const outside = await bank.send("inquiry", bank.inquiryBody(range.vaNumber, "range-outside", 60_000n));
    expect(outside.responseCode).toBe("4042413");
    const inquiry = await bank.send("inquiry", bank.inquiryBody(range.vaNumber, "range-typed", 30_000n));
    expect(inquiry.responseCode).toBe("2002400");
    expect(inquiry.json?.virtualAccountData).toMatchObject({
      totalAmount: { value: "30000.00", currency: "IDR" },
      virtualAccountTrxType: "N",
      additionalInfo: { minAmount: "10000.00", maxAmount: "50000.00" },
    });
    expect((await bank.send("payment", bank.paymentBody(range.vaNumber, "range-typed", 20_000n))).responseCode).toBe("4042513");
    expect((await bank.send("payment", bank.paymentBody(range.vaNumber, "range-typed", 30_000n))).responseCode).toBe("2002500");

    const open = await newVa({ usage: VaUsage.MULTI, amount: { rule: { case: "open", value: {} } } });
    const openTransfer = await bank.transfer(open.vaNumber, { amount: 12_345n });
    expect(openTransfer.state).toBe("COMPLETED");
    expect(openTransfer.inquiry.json?.virtualAccountData).toMatchObject({ virtualAccountTrxType: "O" });
    const status = await client.getPaymentStatus({ virtualAccountId: open.id });
    expect(status.payments.map((p) => p.amount)).toEqual([12_345n]);
    expect(status.virtualAccount?.status).toBe(VirtualAccountStatus.PAID);
  });

  it.skipIf(skip)("a payment after the inquiry timer is refused 4032500 and nothing is recorded", async () => {
    const va = await newVa();
    const late = await bank.transfer(va.vaNumber, { beforePayment: () => gateway.advanceClock(TIMER_MS + 1_000) });
    expect(late.state).toBe("REVERSED");
    expect([late.payments[0]?.status, late.payments[0]?.responseCode]).toEqual([403, "4032500"]);
    expect(await payments(va.id)).toHaveLength(0);
    // Just inside the timer is fine.
    const inTime = await bank.transfer(va.vaNumber, { beforePayment: () => gateway.advanceClock(TIMER_MS - 5_000) });
    expect(inTime.state).toBe("COMPLETED");
    expect(await payments(va.id)).toHaveLength(1);
  });

  it.skipIf(skip)("a repeated payment gets the original answer byte for byte and records nothing twice", async () => {
    const va = await newVa();
    // The first answer is lost on its way to the bank, which retries with flagAdvise Y.
    const transfer = await bank.transfer(va.vaNumber, { loseAnswers: 1 });
    expect(transfer.state).toBe("COMPLETED");
    expect(transfer.payments).toHaveLength(2);
    const [first, retry] = transfer.payments;
    expect(JSON.parse(retry?.sent.body ?? "{}")).toMatchObject({ flagAdvise: "Y" });
    expect(retry?.sent.headers["X-EXTERNAL-ID"]).not.toBe(first?.sent.headers["X-EXTERNAL-ID"]);
    expect(retry?.body).toBe(first?.body);
    expect(retry?.body).toContain('"flagAdvise":"N"');
    // Again, later, by hand: still the same bytes.
    const third = await bank.send("payment", retry?.sent.body ?? "");
    expect(third.body).toBe(first?.body);
    expect(await payments(va.id)).toHaveLength(1);
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va.id } }, 3);
    const later = await takeEvents(
      client,
      { filter: { case: "virtualAccountId", value: va.id }, afterCursor: events[2]?.cursor },
      1,
      800,
    ).catch((error: Error) => error);
    expect(later).toBeInstanceOf(Error);
    // The same paymentRequestId with another amount is not the same payment.
    const other = await bank.send("payment", bank.paymentBody(va.vaNumber, transfer.inquiryRequestId, 30_000n));
    expect(other.responseCode).toBe("4042513");
  });

  it.skipIf(skip)("concurrent duplicate payment notifications record one payment and all get the same answer", async () => {
    const va = await newVa();
    const id = await inquire(va.vaNumber);
    const body = JSON.stringify(bank.paymentBody(va.vaNumber, id, 25_000n));
    const answers = await Promise.all(Array.from({ length: 12 }, () => bank.send("payment", body)));
    expect(
      answers.map((a) => a.status),
      gateway.logs
        .filter((l) => l.includes('"level":50'))
        .join("\n")
        .slice(0, 2000),
    ).toEqual(Array(12).fill(200));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(await payments(va.id)).toHaveLength(1);
    const status = await client.getPaymentStatus({ virtualAccountId: va.id });
    expect(status.virtualAccount?.paidAmount).toBe(25_000n);
    expect(status.virtualAccount?.paymentCount).toBe(1);
  });

  it.skipIf(skip)("concurrent identical inquiries: one inquiry, one event, the same answer for all", async () => {
    const va = await newVa();
    const body = JSON.stringify(bank.inquiryBody(va.vaNumber, `raced-${va.id}`));
    const answers = await Promise.all(Array.from({ length: 8 }, () => bank.send("inquiry", body)));
    expect(answers.map((a) => a.responseCode)).toEqual(Array(8).fill("2002400"));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va.id } }, 2);
    const later = await takeEvents(
      client,
      { filter: { case: "virtualAccountId", value: va.id }, afterCursor: events[1]?.cursor },
      1,
      800,
    ).catch((error: Error) => error);
    expect(later).toBeInstanceOf(Error);
  });

  it.skipIf(skip)("unknown, paid, cancelled and expired bills: 4042412, 4042414, 4042412, 4042419", async () => {
    const unknown = await bank.send("inquiry", bank.inquiryBody(`${BIN}000000000000000001`, "unknown-va"));
    expect([unknown.status, unknown.responseCode, unknown.json?.responseMessage]).toEqual([
      404,
      "4042412",
      "Invalid Bill/Virtual Account Not Found",
    ]);

    const paid = await newVa();
    expect((await bank.transfer(paid.vaNumber)).state).toBe("COMPLETED");
    const again = await bank.transfer(paid.vaNumber);
    expect([again.state, again.inquiry.responseCode]).toEqual(["REFUSED", "4042414"]);

    const cancelled = await newVa();
    await client.cancelVirtualAccount({ virtualAccountId: cancelled.id, idempotencyKey: `cancel-${cancelled.id}` });
    const toCancelled = await bank.transfer(cancelled.vaNumber);
    expect([toCancelled.inquiry.responseCode, toCancelled.inquiry.json?.responseMessage]).toEqual([
      "4042412",
      "Invalid Bill/Virtual Account Cancelled",
    ]);

    const expiring = await newVa({ expiresAt: timestampFromDate(new Date(gateway.now().getTime() + 2 * 60_000)) });
    const inquiryRequestId = await inquire(expiring.vaNumber);
    gateway.advanceClock(3 * 60_000);
    const toExpired = await bank.transfer(expiring.vaNumber);
    expect([toExpired.inquiry.status, toExpired.inquiry.responseCode]).toEqual([404, "4042419"]);
    // Within the inquiry timer, but the VA expired meanwhile.
    const payAfterExpiry = await bank.send("payment", bank.paymentBody(expiring.vaNumber, inquiryRequestId, 25_000n));
    expect(payAfterExpiry.responseCode).toBe("4042519");
    for (const va of [cancelled, expiring]) expect(await payments(va.id)).toHaveLength(0);
  });

  it.skipIf(skip)("a repeated inquiry gets its first answer and does not restart the timer", async () => {
    const va = await newVa();
    const first = await bank.send("inquiry", bank.inquiryBody(va.vaNumber, "same-inquiry-twice"));
    gateway.advanceClock(4 * 60_000);
    const second = await bank.send("inquiry", bank.inquiryBody(va.vaNumber, "same-inquiry-twice"));
    expect(second.body).toBe(first.body);
    gateway.advanceClock(2 * 60_000);
    const late = await bank.send("payment", bank.paymentBody(va.vaNumber, "same-inquiry-twice", 25_000n));
    expect(late.responseCode).toBe("4032500");
    const otherVa = await newVa();
    const reused = await bank.send("inquiry", bank.inquiryBody(otherVa.vaNumber, "same-inquiry-twice"));
    expect(reused.responseCode).toBe("4042418");
    const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va.id } }, 2);
    expect(events.map((e) => e.type)).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED, EventType.VIRTUAL_ACCOUNT_INQUIRED]);
  });

  it.skipIf(skip)("tampered body or path, stale timestamp, unknown partner: 401/404 refusals, nothing recorded", async () => {
    const va = await newVa();
    const inquiry = bank.inquiryBody(va.vaNumber, "tamper-inquiry");
    const tamperedBody = await bank.send("inquiry", inquiry, { sentBody: JSON.stringify({ ...inquiry, customerNo: "1" }) });
    expect([tamperedBody.status, tamperedBody.responseCode, tamperedBody.json?.responseMessage]).toEqual([
      401,
      "4012400",
      "Unauthorized. Invalid Signature",
    ]);
    const tamperedPath = await bank.send("inquiry", inquiry, { signedPath: "/v1.0/transfer-va/payment" });
    expect([tamperedPath.status, tamperedPath.responseCode]).toEqual([401, "4012400"]);
    const stale = await bank.send("inquiry", inquiry, { timestamp: new Date(gateway.now().getTime() - 10 * 60_000) });
    expect([stale.status, stale.responseCode, stale.json?.responseMessage]).toEqual([
      401,
      "4012400",
      "Unauthorized. Stale Timestamp",
    ]);
    const stranger = await bank.send("inquiry", inquiry, { partnerId: "SOME-OTHER-BANK" });
    expect(stranger.responseCode).toBe("4042416");
    let events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va.id } }, 1);
    expect(events.map((e) => e.type)).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED]);

    const id = await inquire(va.vaNumber);
    const payment = bank.paymentBody(va.vaNumber, id, 25_000n);
    const forgedAmount = await bank.send("payment", payment, {
      sentBody: JSON.stringify({ ...payment, paidAmount: { value: "1.00", currency: "IDR" } }),
    });
    expect([forgedAmount.status, forgedAmount.responseCode]).toEqual([401, "4012500"]);
    const rerouted = await bank.send("payment", payment, { signedPath: "/v1.0/transfer-va/inquiry" });
    expect(rerouted.responseCode).toBe("4012500");
    const stalePayment = await bank.send("payment", payment, { timestamp: new Date(gateway.now().getTime() + 10 * 60_000) });
    expect(stalePayment.responseCode).toBe("4012500");
    expect(await payments(va.id)).toHaveLength(0);
    events = await takeEvents(client, { filter: { case: "virtualAccountId", value: va.id } }, 2);
    expect(events.map((e) => e.type)).toEqual([EventType.VIRTUAL_ACCOUNT_CREATED, EventType.VIRTUAL_ACCOUNT_INQUIRED]);
  });

  it.skipIf(skip)(
    "X-EXTERNAL-ID: reused for another request 4092500, retried with the same body the first answer; a refused attempt does not burn its id",
    async () => {
      const va = await newVa();
      const externalId = `${Date.now()}${dialect === "sqlite" ? 1 : 2}0000000000001`;
      const inquiry = await bank.send("inquiry", bank.inquiryBody(va.vaNumber, "ext-id-inquiry"), { externalId });
      expect(inquiry.responseCode).toBe("2002400");

      const reused = await bank.send("payment", bank.paymentBody(va.vaNumber, "ext-id-inquiry", 25_000n), { externalId });
      expect([reused.status, reused.responseCode, reused.json?.responseMessage]).toEqual([
        409,
        "4092500",
        "Cannot use same X-EXTERNAL-ID in same day",
      ]);
      expect(await payments(va.id)).toHaveLength(0);

      // Refused (wrong amount): the id stays usable, so the corrected request may carry it.
      const paymentId = `${Date.now()}${dialect === "sqlite" ? 1 : 2}0000000000002`;
      const wrong = await bank.send("payment", bank.paymentBody(va.vaNumber, "ext-id-inquiry", 1_000n), {
        externalId: paymentId,
      });
      expect(wrong.responseCode).toBe("4042513");
      const right = await bank.send("payment", bank.paymentBody(va.vaNumber, "ext-id-inquiry", 25_000n), {
        externalId: paymentId,
      });
      expect(right.responseCode).toBe("2002500");
      // Now it is spent: the same body again is the bank's retry and gets the first answer …
      const replay = await bank.send("payment", right.sent.body, { externalId: paymentId });
      expect([replay.status, replay.body]).toEqual([right.status, right.body]);
      // … another request under it is refused.
      const other = await newVa();
      await inquire(other.vaNumber, "ext-id-other");
      const foreign = await bank.send("payment", bank.paymentBody(other.vaNumber, "ext-id-other", 25_000n), {
        externalId: paymentId,
      });
      expect([foreign.status, foreign.responseCode]).toEqual([409, "4092500"]);
      expect(await payments(va.id)).toHaveLength(1);
      expect(await payments(other.id)).toHaveLength(0);
    },
  );

  it.skipIf(skip)(
    "Inquiry Status (26): a payment the bank took but never told us about is recorded; a reversed one is not",
    async () => {
      const lost = await newVa();
      const lostTransfer = await bank.transfer(lost.vaNumber, { deliverPayment: false });
      expect(lostTransfer.state).toBe("UNCONFIRMED");
      const reversed = await newVa();
      const reversedTransfer = await bank.transfer(reversed.vaNumber, { amount: 1n });
      expect(reversedTransfer.state).toBe("REVERSED");
      const flaky = await newVa();
      const flakyTransfer = await bank.transfer(flaky.vaNumber, { deliverPayment: false });

      const poller = gateway.snapBiller?.poller;
      if (!poller) throw new Error("no poller");
      // Before the timer runs out nothing is asked.
      await poller.runOnce();
      const asked = () =>
        bank.statusQueries.filter((q) =>
          [lostTransfer, reversedTransfer, flakyTransfer].some((t) => t.inquiryRequestId === q.inquiryRequestId),
        );
      expect(asked()).toHaveLength(0);

      gateway.advanceClock(TIMER_MS + 60_000);
      // The bank is down for the first query it gets after that.
      bank.failStatusQueries = 1;
      await poller.runOnce();
      await poller.runOnce();
      gateway.advanceClock(2 * 60_000);
      await poller.runOnce();

      const lostPayments = await payments(lost.id);
      expect(lostPayments.map((p) => [p.amount, p.providerPaymentReference])).toEqual([[25_000n, lostTransfer.inquiryRequestId]]);
      const events = await takeEvents(client, { filter: { case: "virtualAccountId", value: lost.id } }, 3);
      expect(events[2]?.type).toBe(EventType.PAYMENT_RECEIVED);
      expect(events[2]?.cause).toBe(EventCause.STATUS_POLL);
      expect(await payments(reversed.id)).toHaveLength(0);
      expect(await payments(flaky.id)).toHaveLength(1);
      const flags = Object.fromEntries(
        asked()
          .filter((q) => q.status === 200)
          .map((q) => [q.inquiryRequestId, q.paymentFlagStatus]),
      );
      expect(flags).toEqual({
        [lostTransfer.inquiryRequestId]: "00",
        [reversedTransfer.inquiryRequestId]: "01",
        [flakyTransfer.inquiryRequestId]: "00",
      });
      // The failed query (whichever inquiry it was for) was asked again once the retry pause passed.
      expect(bank.statusQueries.filter((q) => q.status === 500)).toHaveLength(1);

      // Settled inquiries are not asked about again; the bank's late notification still gets a success.
      const before = bank.statusQueries.length;
      await poller.runOnce();
      expect(bank.statusQueries.length).toBe(before);
      const late = await bank.send("payment", bank.paymentBody(lost.vaNumber, lostTransfer.inquiryRequestId, 25_000n, "Y"));
      expect(late.responseCode).toBe("2002500");
      expect(await payments(lost.id)).toHaveLength(1);
      const afterReversal = await bank.send(
        "payment",
        bank.paymentBody(reversed.vaNumber, reversedTransfer.inquiryRequestId, 25_000n),
      );
      expect(afterReversal.responseCode).toBe("4032500");
    },
  );

  it.skipIf(skip)("SimulatePayment drives the bank simulator through inquiry and payment", async () => {
    const va = await newVa();
    const { providerPaymentReference } = await client.simulatePayment({ virtualAccountId: va.id });
    const [payment] = await payments(va.id);
    expect(payment?.providerPaymentReference).toBe(providerPaymentReference);
    expect(inquiryIdOf(bank.transfers.at(-1)?.inquiry as SnapExchange)).toBe(providerPaymentReference);
    await expect(client.simulatePayment({ virtualAccountId: va.id })).rejects.toMatchObject({
      rawMessage: expect.stringContaining("4042414"),
    });
  });
});
