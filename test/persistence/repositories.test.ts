import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VaEvent } from "../../src/domain/event.js";
import type { HeldPayment, Payment, ReportedPayment } from "../../src/domain/payment.js";
import type { VirtualAccount } from "../../src/domain/virtual-account.js";
import { type Database, openDatabase } from "../../src/persistence/orm.js";
import type { BillerInquiry } from "../../src/persistence/repositories/biller-inquiries.js";
import type { VirtualAccountFilter } from "../../src/persistence/repositories/virtual-accounts.js";
import { Store } from "../../src/persistence/store.js";
import { createPostgresDatabase, postgresUnavailableReason } from "../support/databases.js";
import { eventually } from "../support/fixtures.js";

const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] PostgreSQL repository tests: ${postgresSkip}`);

const T0 = Date.parse("2026-01-10T00:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
/** Every test works under its own provider, tenant and ids, so they share one database. */
const unique = () => randomBytes(6).toString("hex");

function va(overrides: Partial<VirtualAccount> & Pick<VirtualAccount, "provider" | "vaNumber">): VirtualAccount {
  const createdAt = overrides.createdAt ?? at(0);
  return {
    id: `va_${unique()}`,
    tenantId: "tenant",
    merchantReference: "order-1",
    providerAccount: "acct",
    providerReference: `ref-${unique()}`,
    providerVaId: undefined,
    bankCode: "BNI",
    usage: "SINGLE",
    amount: { type: "FIXED", amount: 25_000n },
    status: "ACTIVE",
    expiresAt: new Date(createdAt.getTime() + 86_400_000),
    customer: { name: "Budi", email: "budi@example.com", phone: "0811" },
    description: "bill",
    paidAmount: 0n,
    paymentCount: 0,
    updatedAt: createdAt,
    ...overrides,
    createdAt,
  };
}

function report(overrides: Partial<ReportedPayment> & Pick<ReportedPayment, "vaNumber">): ReportedPayment {
  return {
    providerAccount: "acct",
    providerPaymentRef: `pay-${unique()}`,
    amount: 25_000n,
    fee: undefined,
    paidAt: at(0),
    rawPayload: "{}",
    ...overrides,
  };
}

function payment(of: VirtualAccount, overrides: Partial<Payment> = {}): Payment {
  return {
    id: `pay_${unique()}`,
    tenantId: of.tenantId,
    virtualAccountId: of.id,
    provider: of.provider,
    providerAccount: of.providerAccount,
    providerPaymentRef: `ref-${unique()}`,
    amount: 25_000n,
    fee: 1_500n,
    outcome: "ACCEPTED",
    paidAt: at(1),
    recordedAt: at(2),
    rawPayload: '{"a":1}',
    ...overrides,
  };
}

function held(provider: string, overrides: Partial<HeldPayment> = {}): HeldPayment {
  return {
    id: `held_${unique()}`,
    provider,
    payment: report({ vaNumber: "123", fee: 500n, providerVaId: "pva" }),
    reason: "UNMATCHED",
    detail: "no virtual account matches it",
    state: "HELD",
    attempts: 0,
    nextAttemptAt: at(5),
    receivedAt: at(0),
    resolvedAt: undefined,
    virtualAccountId: undefined,
    ...overrides,
  };
}

const dialects = [
  {
    name: "SQLite",
    skip: undefined,
    open: async () => {
      const folder = mkdtempSync(join(tmpdir(), "va-repositories-"));
      const database = await openDatabase({ url: undefined, sqlitePath: join(folder, "db.sqlite") });
      return { database, drop: async () => rmSync(folder, { recursive: true, force: true }) };
    },
  },
  {
    name: "PostgreSQL",
    skip: postgresSkip,
    open: async () => {
      const postgres = await createPostgresDatabase();
      const database = await openDatabase({ url: postgres.url, sqlitePath: "" });
      return { database, drop: postgres.drop };
    },
  },
];

describe.each(dialects)("repositories on $name", ({ name, skip, open }) => {
  let database: Database;
  let drop: () => Promise<void>;
  let store: Store;

  beforeAll(async () => {
    if (skip) return;
    ({ database, drop } = await open());
    store = new Store(database);
  });

  afterAll(async () => {
    if (skip) return;
    await database.close();
    await drop();
  });

  const test = it.skipIf(skip !== undefined);
  const insert = (...vas: VirtualAccount[]) =>
    store.transaction(async (tx) => {
      for (const each of vas) await tx.virtualAccounts.insert(each);
    });

  describe("virtual accounts", () => {
    test("reads back what it wrote, only for its tenant", async () => {
      const written = va({
        provider: `p${unique()}`,
        vaNumber: "1",
        providerVaId: "pva-1",
        amount: { type: "RANGE", min: 10n, max: 9_000_000_000n },
      });
      await insert(written);
      expect(await store.virtualAccounts.find("tenant", written.id)).toEqual(written);
      expect(await store.virtualAccounts.find("other", written.id)).toBeUndefined();
    });

    test("an update is saved; updating a VA that is not there aborts", async () => {
      const written = va({ provider: `p${unique()}`, vaNumber: "1" });
      await insert(written);
      const changed = { ...written, status: "PAID" as const, paidAmount: 25_000n, paymentCount: 1, updatedAt: at(3) };
      await store.transaction((tx) => tx.virtualAccounts.update(changed));
      expect(await store.virtualAccounts.find("tenant", written.id)).toEqual(changed);
      await expect(store.transaction((tx) => tx.virtualAccounts.update({ ...changed, id: "va_missing" }))).rejects.toMatchObject({
        kind: "ABORTED",
      });
    });

    test("a read outside a transaction sees the last commit, not a change still in flight", async () => {
      const written = va({ provider: `p${unique()}`, vaNumber: "1" });
      await insert(written);
      const changed = { ...written, status: "PAID" as const, paidAmount: 25_000n, paymentCount: 1, updatedAt: at(3) };
      await store.transaction(async (tx) => {
        await tx.virtualAccounts.update(changed);
        expect(await store.virtualAccounts.find("tenant", written.id)).toEqual(written);
      });
      expect(await store.virtualAccounts.find("tenant", written.id)).toEqual(changed);
    });

    test("lock reads by id, and by tenant when given", async () => {
      const written = va({ provider: `p${unique()}`, vaNumber: "1" });
      await insert(written);
      await store.transaction(async (tx) => {
        expect((await tx.virtualAccounts.lock({ id: written.id }))?.id).toBe(written.id);
        expect((await tx.virtualAccounts.lock({ id: written.id, tenantId: "tenant" }))?.id).toBe(written.id);
        expect(await tx.virtualAccounts.lock({ id: written.id, tenantId: "other" })).toBeUndefined();
      });
    });

    test("lockByNumber finds the newest VA with that number", async () => {
      const provider = `p${unique()}`;
      const older = va({ provider, vaNumber: "77", createdAt: at(0) });
      const newer = va({ provider, vaNumber: "77", createdAt: at(10) });
      await insert(older, newer, va({ provider, vaNumber: "77", providerAccount: "other", createdAt: at(20) }));
      await store.transaction(async (tx) => {
        expect((await tx.virtualAccounts.lockByNumber(provider, "acct", "77"))?.id).toBe(newer.id);
        expect(await tx.virtualAccounts.lockByNumber(provider, "acct", "78")).toBeUndefined();
      });
    });

    describe("lockForPayment", () => {
      const match = (provider: string, paid: ReportedPayment) =>
        store.transaction(async (tx) => (await tx.virtualAccounts.lockForPayment(provider, paid))?.id);

      test("goes by the provider's identity first, over a newer VA with the same number", async () => {
        const provider = `p${unique()}`;
        const identified = va({ provider, vaNumber: "100", providerVaId: "X", createdAt: at(0) });
        const reissued = va({ provider, vaNumber: "100", providerVaId: "Y", createdAt: at(10) });
        await insert(identified, reissued);
        expect(await match(provider, report({ vaNumber: "100", providerVaId: "X", paidAt: at(20) }))).toBe(identified.id);
      });

      test("an identity with another number matches nothing", async () => {
        const provider = `p${unique()}`;
        await insert(va({ provider, vaNumber: "100", providerVaId: "X" }), va({ provider, vaNumber: "200", providerVaId: "Y" }));
        expect(await match(provider, report({ vaNumber: "200", providerVaId: "X" }))).toBeUndefined();
      });

      test("an unknown identity falls back only to a VA without one", async () => {
        const provider = `p${unique()}`;
        const withoutIdentity = va({ provider, vaNumber: "300", createdAt: at(0) });
        await insert(withoutIdentity, va({ provider, vaNumber: "300", providerVaId: "Z", createdAt: at(10) }));
        expect(await match(provider, report({ vaNumber: "300", providerVaId: "W", paidAt: at(20) }))).toBe(withoutIdentity.id);

        const onlyIdentified = `p${unique()}`;
        await insert(va({ provider: onlyIdentified, vaNumber: "300", providerVaId: "Z" }));
        expect(await match(onlyIdentified, report({ vaNumber: "300", providerVaId: "W" }))).toBeUndefined();
      });

      test("by number: the newest VA that existed when paid, else the first made after", async () => {
        const provider = `p${unique()}`;
        const first = va({ provider, vaNumber: "400", createdAt: at(0) });
        const second = va({ provider, vaNumber: "400", createdAt: at(10) });
        const third = va({ provider, vaNumber: "400", createdAt: at(20) });
        await insert(third, first, second);
        expect(await match(provider, report({ vaNumber: "400", paidAt: at(15) }))).toBe(second.id);
        expect(await match(provider, report({ vaNumber: "400", paidAt: at(10) }))).toBe(second.id);
        expect(await match(provider, report({ vaNumber: "400", paidAt: at(30) }))).toBe(third.id);
        expect(await match(provider, report({ vaNumber: "400", paidAt: at(-5) }))).toBe(first.id);
        expect(await match(provider, report({ vaNumber: "400", providerAccount: "other" }))).toBeUndefined();
      });
    });

    test("list: a tenant's VAs newest first, filtered, resumed after a page bound", async () => {
      const tenantId = `t${unique()}`;
      const a = va({
        tenantId,
        provider: "pa",
        vaNumber: "1",
        createdAt: at(0),
        status: "ACTIVE",
        bankCode: "BNI",
        merchantReference: "m1",
      });
      const b = va({
        tenantId,
        provider: "pb",
        vaNumber: "2",
        createdAt: at(1),
        status: "PAID",
        bankCode: "BRI",
        merchantReference: "m2",
      });
      const c = va({
        tenantId,
        provider: "pa",
        vaNumber: "3",
        createdAt: at(2),
        status: "EXPIRED",
        bankCode: "BNI",
        merchantReference: "m1",
      });
      await insert(a, b, c, va({ tenantId: "other", provider: "pa", vaNumber: "4" }));
      const none: VirtualAccountFilter = {
        statuses: [],
        bankCode: undefined,
        provider: undefined,
        merchantReference: undefined,
        createdFrom: undefined,
        createdBefore: undefined,
      };
      const ids = async (filter: Partial<VirtualAccountFilter>, after?: VirtualAccount, limit = 10) =>
        (await store.virtualAccounts.list(tenantId, { ...none, ...filter }, after, limit)).map((each) => each.id);

      expect(await ids({})).toEqual([c.id, b.id, a.id]);
      expect(await ids({}, undefined, 2)).toEqual([c.id, b.id]);
      expect(await ids({}, b)).toEqual([a.id]);
      expect(await ids({ statuses: ["ACTIVE", "PAID"] })).toEqual([b.id, a.id]);
      expect(await ids({ bankCode: "BNI", provider: "pa", merchantReference: "m1" })).toEqual([c.id, a.id]);
      expect(await ids({ createdFrom: at(1), createdBefore: at(2) })).toEqual([b.id]);
    });

    test("findDue and findToReconcile pick open VAs by expiry, soonest first", async () => {
      // Far in the future, so VAs of the other tests never qualify.
      const base = Date.parse("2090-01-01T00:00:00Z");
      const when = (minutes: number) => new Date(base + minutes * 60_000);
      const provider = `p${unique()}`;
      const lapsed = va({ provider, vaNumber: "1", status: "ACTIVE", expiresAt: when(-10) });
      const lapsedPaid = va({ provider, vaNumber: "2", status: "PAID", expiresAt: when(-20) });
      const expiring = va({ provider, vaNumber: "3", status: "ACTIVE", expiresAt: when(5) });
      const expired = va({ provider, vaNumber: "4", status: "EXPIRED", expiresAt: when(-30) });
      const longExpired = va({ provider, vaNumber: "5", status: "EXPIRED", expiresAt: when(-600) });
      const cancelled = va({ provider, vaNumber: "6", status: "CANCELLED", expiresAt: when(-5) });
      await insert(lapsed, lapsedPaid, expiring, expired, longExpired, cancelled);
      const now = when(0);

      const due = (await store.virtualAccounts.findDue(now, 1000)).filter((each) => each.provider === provider);
      expect(due.map((each) => each.id)).toEqual([lapsedPaid.id, lapsed.id]);

      const reconcile = (await store.virtualAccounts.findToReconcile(now, 10 * 60_000, 60 * 60_000, 1000)).filter(
        (each) => each.provider === provider,
      );
      expect(reconcile.map((each) => each.id)).toEqual([expired.id, lapsedPaid.id, lapsed.id, expiring.id]);
    });
  });

  describe("payments", () => {
    test("recorded once by provider reference, listed in recording order", async () => {
      const on = va({ provider: `p${unique()}`, vaNumber: "1" });
      await insert(on);
      const later = payment(on, { recordedAt: at(9), fee: undefined });
      const earlier = payment(on, { recordedAt: at(3) });
      await store.transaction(async (tx) => {
        expect(await tx.payments.insertIfNew(later)).toBe(true);
        expect(await tx.payments.insertIfNew(earlier)).toBe(true);
        expect(await tx.payments.insertIfNew({ ...earlier, id: "pay_again" })).toBe(false);
        expect(await tx.payments.virtualAccountIdOf(on.provider, earlier)).toBe(on.id);
        expect(await tx.payments.virtualAccountIdOf(on.provider, { ...earlier, providerPaymentRef: "none" })).toBeUndefined();
      });
      expect(await store.payments.list(on.tenantId, on.id)).toEqual([earlier, later]);
      expect(await store.payments.isRecorded(on.provider, earlier)).toBe(true);
      expect(await store.payments.isRecorded(on.provider, { ...earlier, providerAccount: "other" })).toBe(false);
    });
  });

  describe("events", () => {
    test("appended in sequence, read back exactly, by range and filter; listeners woken after commit only", async () => {
      const tenantId = `t${unique()}`;
      const one = va({ tenantId, provider: "p", vaNumber: "1", merchantReference: "m1", amount: { type: "OPEN" } });
      const two = va({ tenantId, provider: "p", vaNumber: "2", merchantReference: "m2" });
      let woken = 0;
      const stop = store.onEventsCommitted(() => woken++);
      const before = await store.events.lastSequence();
      const paid = payment(one);
      const sequences = await store.transaction(async (tx) => [
        await tx.events.append({
          tenantId,
          type: "VIRTUAL_ACCOUNT_CREATED",
          cause: "RPC",
          occurredAt: at(0),
          virtualAccount: one,
          payment: undefined,
        }),
        await tx.events.append({
          tenantId,
          type: "VIRTUAL_ACCOUNT_CREATED",
          cause: "RPC",
          occurredAt: at(1),
          virtualAccount: two,
          payment: undefined,
        }),
        await tx.events.append({
          tenantId,
          type: "PAYMENT_RECEIVED",
          cause: "CALLBACK",
          occurredAt: at(2),
          virtualAccount: one,
          payment: paid,
        }),
      ]);
      expect(woken).toBe(1);
      await expect(
        store.transaction(async (tx) => {
          await tx.events.append({
            tenantId,
            type: "VIRTUAL_ACCOUNT_CREATED",
            cause: "RPC",
            occurredAt: at(3),
            virtualAccount: two,
            payment: undefined,
          });
          throw new Error("rolled back");
        }),
      ).rejects.toThrow("rolled back");
      stop();
      expect(woken).toBe(1);

      expect(sequences[0]).toBeGreaterThan(before);
      expect(sequences[1]).toBeGreaterThan(sequences[0] as bigint);
      expect(sequences[2]).toBeGreaterThan(sequences[1] as bigint);
      expect(await store.events.lastSequence()).toBe(sequences[2]);

      const all = await store.events.read({ after: before }, 10, { tenantId, kind: "ALL" });
      expect(all.map((each) => each.sequence)).toEqual(sequences);
      expect(all[2]).toEqual<VaEvent>({
        sequence: sequences[2] as bigint,
        tenantId,
        type: "PAYMENT_RECEIVED",
        cause: "CALLBACK",
        occurredAt: at(2),
        virtualAccount: one,
        payment: paid,
      });
      const seqs = (events: VaEvent[]) => events.map((each) => each.sequence);
      expect(seqs(await store.events.read({ after: before, upTo: sequences[1] }, 10, { tenantId, kind: "ALL" }))).toEqual(
        sequences.slice(0, 2),
      );
      expect(seqs(await store.events.read({ after: sequences[0] as bigint }, 1, { tenantId, kind: "ALL" }))).toEqual([
        sequences[1],
      ]);
      expect(
        seqs(await store.events.read({ after: before }, 10, { tenantId, kind: "VIRTUAL_ACCOUNT", virtualAccountId: one.id })),
      ).toEqual([sequences[0], sequences[2]]);
      expect(
        seqs(await store.events.read({ after: before }, 10, { tenantId, kind: "MERCHANT_REFERENCE", merchantReference: "m2" })),
      ).toEqual([sequences[1]]);
      expect(seqs(await store.events.read({ after: before, upTo: sequences[2] }, 10))).toEqual(sequences);
    });
  });

  describe("idempotency keys", () => {
    test("claimed once, completed or released only by the holder, retaken once, forgotten when done and old", async () => {
      const scope = { tenantId: `t${unique()}`, operation: "create", key: "k1" };
      expect(await store.idempotencyKeys.claim(scope, "hash", at(0))).toBeUndefined();
      expect(await store.idempotencyKeys.claim(scope, "other", at(1))).toEqual({
        requestHash: "hash",
        state: "IN_FLIGHT",
        virtualAccountId: undefined,
        createdAt: at(0),
      });

      expect(await store.idempotencyKeys.retake(scope, at(0), at(2))).toBe(true);
      expect(await store.idempotencyKeys.retake(scope, at(0), at(3))).toBe(false);
      await expect(
        store.transaction((tx) => tx.idempotencyKeys.complete({ ...scope, claimedAt: at(0) }, "va_1")),
      ).rejects.toMatchObject({
        kind: "ABORTED",
      });
      await store.transaction((tx) => tx.idempotencyKeys.release({ ...scope, claimedAt: at(0) }));
      await store.transaction((tx) => tx.idempotencyKeys.complete({ ...scope, claimedAt: at(2) }, "va_1"));
      expect(await store.idempotencyKeys.claim(scope, "hash", at(4))).toEqual({
        requestHash: "hash",
        state: "DONE",
        virtualAccountId: "va_1",
        createdAt: at(2),
      });

      const released = { ...scope, key: "k2" };
      await store.idempotencyKeys.claim(released, "hash", at(0));
      await store.transaction((tx) => tx.idempotencyKeys.release({ ...released, claimedAt: at(0) }));
      expect(await store.idempotencyKeys.claim(released, "again", at(1))).toBeUndefined();

      // k2 is in flight again, so only k1 (done) goes.
      expect(await store.idempotencyKeys.deleteDoneBefore(at(3))).toBeGreaterThanOrEqual(1);
      expect(await store.idempotencyKeys.claim(scope, "new", at(5))).toBeUndefined();
      expect((await store.idempotencyKeys.claim(released, "x", at(5)))?.requestHash).toBe("again");
    });
  });

  describe("held payments", () => {
    test("held once, locked, updated, found when due, listed and counted", async () => {
      const provider = `p${unique()}`;
      const first = held(provider, { receivedAt: at(0), nextAttemptAt: at(5), detail: "x".repeat(300) });
      const second = held(provider, { receivedAt: at(1), nextAttemptAt: at(50), reason: "UNCONFIRMED" });
      await store.transaction(async (tx) => {
        expect(await tx.heldPayments.hold(first)).toBe(true);
        expect(await tx.heldPayments.hold(second)).toBe(true);
        expect(await tx.heldPayments.hold({ ...first, id: "held_again" })).toBe(false);
      });
      const stored = { ...first, detail: "x".repeat(255) };
      expect(await store.transaction((tx) => tx.heldPayments.lock(provider, first.payment))).toEqual(stored);

      const due = (await store.heldPayments.findDue(at(10), 1000)).filter((each) => each.provider === provider);
      expect(due).toEqual([stored]);
      const counts = (await store.heldPayments.countHeld()).filter((each) => each.provider === provider);
      expect(counts.sort((x, y) => x.reason.localeCompare(y.reason))).toEqual([
        { provider, reason: "UNCONFIRMED", count: 1 },
        { provider, reason: "UNMATCHED", count: 1 },
      ]);

      const recorded = { ...stored, state: "RECORDED" as const, resolvedAt: at(11), virtualAccountId: "va_1", attempts: 2 };
      await store.transaction((tx) => tx.heldPayments.update(recorded));
      expect(await store.heldPayments.list({ provider }, 10)).toEqual([second, recorded]);
      expect(await store.heldPayments.list({ provider, state: "HELD" }, 10)).toEqual([second]);
      expect(await store.heldPayments.list({ provider }, 1)).toEqual([second]);
      expect((await store.heldPayments.list({ state: "RECORDED" }, 1000)).map((each) => each.id)).toContain(recorded.id);
    });
  });

  describe("SNAP external ids", () => {
    test("NEW, then RETRY with the same body or CONFLICT with another; forgotten by day", async () => {
      const guard = { scope: `partner-${unique()}`, day: "2026-01-10", requestId: "123", bodyHash: "h1" };
      expect(await store.snapExternalIds.claim(guard, at(0))).toBe("NEW");
      expect(await store.snapExternalIds.claim(guard, at(1))).toBe("RETRY");
      expect(await store.snapExternalIds.claim({ ...guard, bodyHash: "h2" }, at(1))).toBe("CONFLICT");
      expect(await store.snapExternalIds.claim({ ...guard, day: "2026-01-11" }, at(1))).toBe("NEW");
      await store.transaction(async (tx) => {
        expect(await tx.snapExternalIds.claim({ ...guard, requestId: "456" }, at(2))).toBe("NEW");
        expect(await tx.snapExternalIds.forgetBefore("2026-01-11")).toBeGreaterThanOrEqual(2);
      });
      expect(await store.snapExternalIds.claim(guard, at(3))).toBe("NEW");
    });
  });

  describe("biller inquiries", () => {
    test("inserted once, read, updated (unset fields to null), found when they need resolving", async () => {
      const partnerId = `bank-${unique()}`;
      const inquiry: BillerInquiry = {
        partnerId,
        inquiryRequestId: "inq-1",
        virtualAccountId: "va_1",
        virtualAccountNo: "   12345678",
        amount: 25_000n,
        state: "INQUIRED",
        inquiredAt: at(0),
        payBy: at(5),
        inquiryAnswer: "{}",
        paymentFingerprint: undefined,
        paymentStatus: undefined,
        paymentAnswer: undefined,
        paidAmount: undefined,
        paidAt: undefined,
        statusChecks: 0,
        statusCheckedAt: undefined,
      };
      const key = { partnerId, inquiryRequestId: "inq-1" };
      await store.transaction(async (tx) => {
        expect(await tx.billerInquiries.insert(inquiry)).toBe(true);
        expect(await tx.billerInquiries.insert({ ...inquiry, virtualAccountId: "va_2" })).toBe(false);
        expect(await tx.billerInquiries.lock(key)).toEqual(inquiry);
      });
      expect(await store.billerInquiries.find({ ...key, inquiryRequestId: "none" })).toBeUndefined();

      const toResolve = async (now: Date, askedBefore: Date) =>
        (await store.billerInquiries.findToResolve(now, 60_000, askedBefore, 1000)).filter(
          (each) => each.partnerId === partnerId,
        );
      expect(await toResolve(at(5), at(0))).toEqual([]);
      expect(await toResolve(at(6), at(0))).toEqual([inquiry]);

      await store.transaction((tx) => tx.billerInquiries.update(key, { statusChecks: 1, statusCheckedAt: at(7) }));
      expect(await toResolve(at(8), at(6))).toEqual([]);
      expect(await toResolve(at(8), at(7))).toHaveLength(1);

      const paid = { state: "PAID" as const, paymentStatus: 200, paymentAnswer: "{}", paidAmount: 25_000n, paidAt: at(9) };
      await store.transaction((tx) => tx.billerInquiries.update(key, paid));
      expect(await store.billerInquiries.find(key)).toEqual({ ...inquiry, ...paid, statusChecks: 1, statusCheckedAt: at(7) });
      await store.transaction((tx) => tx.billerInquiries.update(key, { paidAt: undefined }));
      expect((await store.billerInquiries.find(key))?.paidAt).toBeUndefined();
      expect(await toResolve(at(20), at(20))).toEqual([]);
    });
  });

  test("a transaction that throws leaves nothing behind", async () => {
    const written = va({ provider: `p${unique()}`, vaNumber: "1" });
    await expect(
      store.transaction(async (tx) => {
        await tx.virtualAccounts.insert(written);
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    expect(await store.virtualAccounts.find("tenant", written.id)).toBeUndefined();
  });

  if (name === "PostgreSQL") {
    test("a row locked for change makes a second locker wait for the commit, then see it", async () => {
      const written = va({ provider: `p${unique()}`, vaNumber: "1" });
      await insert(written);
      let commit = () => {};
      const committing = new Promise<void>((resolve) => {
        commit = resolve;
      });
      let locked = () => {};
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const first = store.transaction(async (tx) => {
        const current = await tx.virtualAccounts.lock({ id: written.id });
        locked();
        await committing;
        await tx.virtualAccounts.update({ ...(current as VirtualAccount), status: "CANCELLED" });
      });
      await isLocked;
      const second = store.transaction(async (tx) => (await tx.virtualAccounts.lock({ id: written.id }))?.status);
      const connection = database.orm.em.fork().getConnection();
      await eventually(async () => {
        const [waiting] = await connection.execute<{ count: string }[]>(
          "select count(*) as count from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        );
        return Number(waiting?.count) > 0 ? true : undefined;
      });
      commit();
      await first;
      expect(await second).toBe("CANCELLED");
    });
  }
});
