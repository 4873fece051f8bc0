import type { SqlEntityManager as EntityManager } from "@mikro-orm/knex";
import { DomainError } from "../domain/errors.js";
import { inSpan, SpanKind } from "../operability/tracing.js";
import type { EventCause, EventFilter, EventType, VaEvent } from "../domain/event.js";
import type { HeldPayment, HeldState, Payment, ReportedPayment } from "../domain/payment.js";
import type { VaStatus, VirtualAccount } from "../domain/virtual-account.js";
import { BillerTransaction } from "./biller-store.js";
import { EventRow, HeldPaymentRow, IdempotencyRow, PaymentRow, SnapExternalIdRow, VirtualAccountRow } from "./entities.js";
import {
  heldPaymentFromRow,
  heldPaymentToColumns,
  parseSnapshot,
  paymentFromRow,
  paymentToColumns,
  snapshot,
  virtualAccountFromRow,
  virtualAccountToColumns,
} from "./mappers.js";
import type { Database } from "./orm.js";
import { Statements } from "./statements.js";

/** PostgreSQL channel that carries "new events committed" to every replica. */
export const EVENT_CHANNEL = "va_events";
/**
 * Held from the event insert until commit, so sequence numbers are handed out in commit order and a
 * reader that has seen sequence N can never later find a smaller one committing behind it.
 */
const EVENT_APPEND_LOCK = 0x76615f65;

export type NewEvent = Omit<VaEvent, "sequence">;

const VA = VirtualAccountRow.meta.className;

const EVENT_COLUMNS = '"tenant_id", "virtual_account_id", "merchant_reference", "type", "cause", "occurred_at", "virtual_account", "payment"';
const APPEND_EVENT_SQLITE = `insert into "va_event" (${EVENT_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?) returning "sequence"`;
/**
 * One round trip: takes the append lock, then draws the sequence number (the row is only formed
 * once the lock subquery has answered), then queues the NOTIFY that PostgreSQL delivers on commit.
 * Fewer round trips while holding the lock is what lets replicas' commits interleave.
 */
const APPEND_EVENT_POSTGRESQL =
  `insert into "va_event" (${EVENT_COLUMNS}) select ?, ?, ?, ?, ?, ?::timestamptz, ?, ? ` +
  `from (select pg_advisory_xact_lock(?)) as append_lock returning "sequence", pg_notify(?, "sequence"::text)`;
const FIND_VIRTUAL_ACCOUNT = 'select * from "virtual_account" where "id" = ? and "tenant_id" = ?';
const IDEMPOTENCY = IdempotencyRow.meta.className;
const FIND_IDEMPOTENCY_KEY = 'select * from "idempotency_key" where "tenant_id" = ? and "operation" = ? and "key" = ?';

const HELD = HeldPaymentRow.meta.className;
const FIND_DUE_HELD_PAYMENTS = 'select * from "held_payment" where "state" = ? and "next_attempt_at" <= ? order by "next_attempt_at" asc limit ?';
const SNAP_EXTERNAL_ID = SnapExternalIdRow.meta.className;
const FIND_SNAP_EXTERNAL_ID = 'select * from "snap_external_id" where "partner_id" = ? and "day" = ? and "external_id" = ?';
const PAYMENT_EXISTS = 'select "id" from "payment" where "provider" = ? and "provider_account" = ? and "provider_payment_ref" = ?';

/** What a request id guard found: first use, a retry of the same request, or a different request. */
export type RequestIdClaim = "NEW" | "RETRY" | "CONFLICT";

export interface IdempotencyScope {
  tenantId: string;
  operation: string;
  key: string;
}

export interface IdempotencyEntry {
  requestHash: string;
  state: "IN_FLIGHT" | "DONE";
  virtualAccountId: string | undefined;
  createdAt: Date;
}

/** Filters of a VA listing; unset ones match every VA. */
export interface VirtualAccountFilter {
  statuses: VaStatus[];
  bankCode: string | undefined;
  provider: string | undefined;
  merchantReference: string | undefined;
  /** Inclusive. */
  createdFrom: Date | undefined;
  /** Exclusive. */
  createdBefore: Date | undefined;
}

/** All reads and writes of the service's state. Every write happens inside `transaction`. */
export class Store {
  private readonly afterCommit = new Set<() => void>();

  constructor(readonly database: Database) {}

  /** Called after every commit that appended events (in-process wake-up for stream readers). */
  onEventsCommitted(listener: () => void): () => void {
    this.afterCommit.add(listener);
    return () => this.afterCommit.delete(listener);
  }

  /**
   * Runs `work` in one database transaction on its own EntityManager. Begun and ended on the
   * connection rather than through `em.transactional()` or `em.commit()`: their AsyncLocalStorage
   * contexts (transaction context, unit-of-work flush guard) switch on Node's promise hooks for the
   * whole process, a tax on every promise of every request (5 % of an inquiry's CPU in the
   * profile). Nothing here needs them: writes are native statements, never the unit of work, and
   * the transaction is passed along explicitly. With tracing on it is a span, a child of the
   * request's.
   */
  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return inSpan("transaction", { kind: SpanKind.CLIENT, attributes: { "db.system.name": this.database.dialect } }, async () => {
      let appended = false;
      const em = this.fork();
      const connection = em.getConnection("write");
      const trx = await connection.begin();
      em.setTransactionContext(trx);
      let result: T;
      try {
        result = await work(
          new StoreTransaction(em, this.database.dialect, () => {
            appended = true;
          }),
        );
        await connection.commit(trx);
      } catch (error) {
        await connection.rollback(trx);
        throw error;
      }
      if (appended) for (const listener of this.afterCommit) listener();
      return result;
    });
  }

  /**
   * The InquiryVirtualAccount hot path: one parameterised statement, mapped by the ORM's metadata,
   * without an EntityManager fork, identity map or unit of work (a third of an inquiry's CPU).
   */
  async findVirtualAccount(tenantId: string, id: string): Promise<VirtualAccount | undefined> {
    const [row] = await this.statements().select<VirtualAccountRow>(VA, FIND_VIRTUAL_ACCOUNT, [id, tenantId]);
    return row ? virtualAccountFromRow(row) : undefined;
  }

  /**
   * A tenant's VAs newest first (created_at, then id, descending), strictly after `after` in that
   * order. The (tenant_id, created_at, id) index gives the order and, through the row-value bound,
   * where a page starts; the other filters only skip rows on the way.
   */
  async listVirtualAccounts(
    tenantId: string,
    filter: VirtualAccountFilter,
    after: { createdAt: Date; id: string } | undefined,
    limit: number,
  ): Promise<VirtualAccount[]> {
    let sql = 'select * from "virtual_account" where "tenant_id" = ?';
    const params: unknown[] = [tenantId];
    const where = (condition: string, ...values: unknown[]) => {
      sql += ` and ${condition}`;
      params.push(...values);
    };
    if (filter.statuses.length) where(`"status" in (${filter.statuses.map(() => "?").join(", ")})`, ...filter.statuses);
    if (filter.bankCode) where('"bank_code" = ?', filter.bankCode);
    if (filter.provider) where('"provider" = ?', filter.provider);
    if (filter.merchantReference) where('"merchant_reference" = ?', filter.merchantReference);
    if (filter.createdFrom) where('"created_at" >= ?', filter.createdFrom);
    if (filter.createdBefore) where('"created_at" < ?', filter.createdBefore);
    if (after) where('("created_at", "id") < (?, ?)', after.createdAt, after.id);
    sql += ' order by "created_at" desc, "id" desc limit ?';
    params.push(limit);
    const rows = await this.statements().select<VirtualAccountRow>(VA, sql, params);
    return rows.map(virtualAccountFromRow);
  }

  async listPayments(tenantId: string, virtualAccountId: string): Promise<Payment[]> {
    const rows = await this.fork().find(
      PaymentRow,
      { tenantId, virtualAccountId },
      { orderBy: { recordedAt: "asc", id: "asc" } },
    );
    return rows.map(paymentFromRow);
  }

  /** Events in (after, upTo] in order, optionally narrowed to one subscriber's filter (every live stream's wake-up: plain SQL). */
  async readEvents(range: { after: bigint; upTo?: bigint }, limit: number, filter?: EventFilter): Promise<VaEvent[]> {
    let sql = 'select * from "va_event" where "sequence" > ?';
    const params: unknown[] = [range.after];
    if (range.upTo !== undefined) {
      sql += ' and "sequence" <= ?';
      params.push(range.upTo);
    }
    if (filter) {
      sql += ' and "tenant_id" = ?';
      params.push(filter.tenantId);
      if (filter.kind === "VIRTUAL_ACCOUNT") {
        sql += ' and "virtual_account_id" = ?';
        params.push(filter.virtualAccountId);
      } else if (filter.kind === "MERCHANT_REFERENCE") {
        sql += ' and "merchant_reference" = ?';
        params.push(filter.merchantReference);
      }
    }
    sql += ' order by "sequence" asc limit ?';
    params.push(limit);
    const rows = await this.statements().select<EventRow>(EventRow.meta.className, sql, params);
    return rows.map(eventFromRow);
  }

  async lastSequence(): Promise<bigint> {
    const [row] = await this.fork().find(EventRow, {}, { orderBy: { sequence: "desc" }, limit: 1, fields: ["sequence"] });
    return row ? BigInt(row.sequence) : 0n;
  }

  /** Open VAs whose expiry has passed, oldest first. */
  async findDueVirtualAccounts(now: Date, limit: number): Promise<VirtualAccount[]> {
    const rows = await this.fork().find(
      VirtualAccountRow,
      { status: { $in: ["ACTIVE", "INQUIRED", "PAID"] }, expiresAt: { $lte: now } },
      { orderBy: { expiresAt: "asc" }, limit },
    );
    return rows.map(virtualAccountFromRow);
  }

  /**
   * VAs whose payments may have slipped past us: still open and expiring within `beforeMs`, or
   * expired within the last `afterMs`. Soonest expiry first.
   */
  async findVirtualAccountsToReconcile(now: Date, beforeMs: number, afterMs: number, limit: number): Promise<VirtualAccount[]> {
    const rows = await this.fork().find(
      VirtualAccountRow,
      {
        $or: [
          { status: { $in: ["ACTIVE", "INQUIRED", "PAID"] }, expiresAt: { $lte: new Date(now.getTime() + beforeMs) } },
          { status: "EXPIRED", expiresAt: { $gte: new Date(now.getTime() - afterMs) } },
        ],
      },
      { orderBy: { expiresAt: "asc" }, limit },
    );
    return rows.map(virtualAccountFromRow);
  }

  /** Held payments due for another attempt (confirmation or matching), oldest due first. */
  async findDueHeldPayments(now: Date, limit: number): Promise<HeldPayment[]> {
    const rows = await this.statements().select<HeldPaymentRow>(HELD, FIND_DUE_HELD_PAYMENTS, ["HELD", now, limit]);
    return rows.map(heldPaymentFromRow);
  }

  /** Held payments for operators, newest first; by state when given. */
  async listHeldPayments(filter: { state?: HeldState; provider?: string }, limit: number): Promise<HeldPayment[]> {
    const where: Record<string, string> = {};
    if (filter.state) where.state = filter.state;
    if (filter.provider) where.provider = filter.provider;
    const rows = await this.fork().find(HeldPaymentRow, where, { orderBy: { receivedAt: "desc", id: "desc" }, limit });
    return rows.map(heldPaymentFromRow);
  }

  /** How many payments are still held, by provider and reason. */
  async countHeldPayments(): Promise<{ provider: string; reason: string; count: number }[]> {
    const rows = await this.database.orm.em
      .fork()
      .getConnection()
      .execute<{ provider: string; reason: string; count: number | string }[]>(
        'select "provider", "reason", count(*) as "count" from "held_payment" where "state" = \'HELD\' group by "provider", "reason"',
      );
    return rows.map((row) => ({ provider: row.provider, reason: row.reason, count: Number(row.count) }));
  }

  /** Whether a payment with this provider reference is already recorded. */
  async isPaymentRecorded(provider: string, report: Pick<ReportedPayment, "providerAccount" | "providerPaymentRef">): Promise<boolean> {
    const rows = await this.statements().select<PaymentRow>(PaymentRow.meta.className, PAYMENT_EXISTS, [
      provider,
      report.providerAccount,
      report.providerPaymentRef,
    ]);
    return rows.length > 0;
  }

  /**
   * Claims a sender's request id (SNAP X-EXTERNAL-ID) with one atomic insert, remembering the body's
   * hash: the same id again with the same body is a RETRY (answered as the first time), with another
   * body a CONFLICT. Kept in the database, so every replica and restart sees the same history.
   */
  async claimRequestId(guard: { scope: string; day: string; requestId: string; bodyHash: string }, at: Date): Promise<RequestIdClaim> {
    const key = { partnerId: guard.scope, day: guard.day, externalId: guard.requestId };
    const statements = this.statements();
    const inserted = await statements.insert(
      SNAP_EXTERNAL_ID,
      { ...key, claimedAt: at, bodyHash: guard.bodyHash },
      { onConflictDoNothing: ["partnerId", "day", "externalId"] },
    );
    if (inserted === 1) return "NEW";
    const [row] = await statements.select<SnapExternalIdRow>(SNAP_EXTERNAL_ID, FIND_SNAP_EXTERNAL_ID, [key.partnerId, key.day, key.externalId]);
    return row?.bodyHash === guard.bodyHash ? "RETRY" : "CONFLICT";
  }

  /**
   * Claims an idempotency key with one atomic insert of its own, not inside a transaction: its commit
   * is what makes the claim visible to a concurrent duplicate. Returns the entry holding the key when
   * someone else does; a holder that let go between our insert and our read is claimed over again.
   */
  async claimIdempotencyKey(scope: IdempotencyScope, requestHash: string, now: Date): Promise<IdempotencyEntry | undefined> {
    const statements = this.statements();
    for (let attempt = 1; ; attempt++) {
      const inserted = await statements.insert(
        IDEMPOTENCY,
        { ...scope, requestHash, state: "IN_FLIGHT", virtualAccountId: null, createdAt: now },
        { onConflictDoNothing: ["tenantId", "operation", "key"] },
      );
      if (inserted === 1) return undefined;
      const [row] = await statements.select<IdempotencyRow>(IDEMPOTENCY, FIND_IDEMPOTENCY_KEY, [
        scope.tenantId,
        scope.operation,
        scope.key,
      ]);
      if (row) {
        return {
          requestHash: row.requestHash,
          state: row.state as IdempotencyEntry["state"],
          virtualAccountId: row.virtualAccountId ?? undefined,
          createdAt: new Date(row.createdAt),
        };
      }
      if (attempt === 3) {
        throw new DomainError("ABORTED", `idempotency_key: "${scope.key}" is changing hands; retry`, {
          field: "idempotency_key",
        });
      }
    }
  }

  /** Takes over an in-flight claim whose holder died, if nobody else did first (one atomic update). */
  async retakeIdempotencyKey(scope: IdempotencyScope, seenCreatedAt: Date, now: Date): Promise<boolean> {
    const taken = await this.statements().update(
      IDEMPOTENCY,
      { createdAt: now },
      { ...scope, state: "IN_FLIGHT", createdAt: seenCreatedAt },
    );
    return taken === 1;
  }

  /** Forgets finished idempotency keys older than the retention period. */
  async deleteIdempotencyKeysBefore(cutoff: Date): Promise<number> {
    return this.fork().nativeDelete(IdempotencyRow, { state: "DONE", createdAt: { $lt: cutoff } });
  }

  private fork(): EntityManager {
    return this.database.orm.em.fork();
  }

  /** Outside a transaction: statements run on the pool, no EntityManager state is touched. */
  private statements(): Statements {
    return new Statements(this.database.orm.em);
  }
}

function eventFromRow(row: EventRow): VaEvent {
  return {
    sequence: BigInt(row.sequence),
    tenantId: row.tenantId,
    type: row.type as VaEvent["type"],
    cause: row.cause as VaEvent["cause"],
    occurredAt: new Date(row.occurredAt),
    virtualAccount: parseSnapshot<VirtualAccount>(row.virtualAccount),
    payment: row.payment ? parseSnapshot<Payment>(row.payment) : undefined,
  };
}

export class StoreTransaction {
  private readonly statements: Statements;
  /** PostgreSQL keeps a row read for change locked until commit; SQLite serialises writers itself. */
  private readonly forUpdate: string;

  constructor(
    private readonly em: EntityManager,
    private readonly dialect: Database["dialect"],
    private readonly markAppended: () => void,
  ) {
    this.statements = new Statements(em);
    this.forUpdate = dialect === "postgresql" ? " for update" : "";
  }

  /** The SNAP biller flow's tables (replay guard, inquiries), in this same transaction. */
  biller(): BillerTransaction {
    return new BillerTransaction(this.em, this.dialect);
  }

  async insertVirtualAccount(va: VirtualAccount): Promise<void> {
    await this.statements.insert(VA, { ...virtualAccountToColumns(va), version: 1 });
  }

  /**
   * Reads a VA for change. On PostgreSQL the row stays locked until commit; SQLite serialises
   * writers itself, so both give the reader the last committed state.
   */
  async lockVirtualAccount(where: { id: string; tenantId?: string }): Promise<VirtualAccount | undefined> {
    const sql = `select * from "virtual_account" where "id" = ?${where.tenantId === undefined ? "" : ' and "tenant_id" = ?'}${this.forUpdate}`;
    const [row] = await this.statements.select<VirtualAccountRow>(VA, sql, where.tenantId === undefined ? [where.id] : [where.id, where.tenantId]);
    return row ? virtualAccountFromRow(row) : undefined;
  }

  /** The newest VA a provider knows by this number (numbers can be reissued after expiry). */
  async lockVirtualAccountByNumber(
    provider: string,
    providerAccount: string,
    vaNumber: string,
  ): Promise<VirtualAccount | undefined> {
    const sql = `select * from "virtual_account" where "provider" = ? and "provider_account" = ? and "va_number" = ? order by "created_at" desc limit 1${this.forUpdate}`;
    const [row] = await this.statements.select<VirtualAccountRow>(VA, sql, [provider, providerAccount, vaNumber]);
    return row ? virtualAccountFromRow(row) : undefined;
  }

  /**
   * The VA a reported payment belongs to, locked for change. By the provider's own identity of the
   * VA when the report names one (and only with the number that VA has: a report whose identity and
   * number disagree matches nothing and is held for operators); a report naming an identity we do not
   * hold matches only a VA that has none recorded (made before identities were kept), never a newer
   * VA reissued the same number.
   * A report naming no identity goes by number: the newest VA that existed when it was paid, or
   * else the first made after (the create's answer can reach us after the payment).
   */
  async lockVirtualAccountForPayment(provider: string, report: ReportedPayment): Promise<VirtualAccount | undefined> {
    const { providerAccount, providerVaId, vaNumber, paidAt } = report;
    const base = 'select * from "virtual_account" where "provider" = ? and "provider_account" = ?';
    const pick = async (sql: string, params: unknown[]) => {
      const [row] = await this.statements.select<VirtualAccountRow>(VA, `${base} and ${sql} limit 1${this.forUpdate}`, [provider, providerAccount, ...params]);
      return row ? virtualAccountFromRow(row) : undefined;
    };
    if (providerVaId) {
      return (
        (await pick('"provider_va_id" = ? and "va_number" = ? order by "created_at" desc', [providerVaId, vaNumber])) ??
        (await pick('"va_number" = ? and "provider_va_id" is null order by "created_at" desc', [vaNumber]))
      );
    }
    return (
      (await pick('"va_number" = ? and "created_at" <= ? order by "created_at" desc', [vaNumber, paidAt])) ??
      (await pick('"va_number" = ? order by "created_at" asc', [vaNumber]))
    );
  }

  /** Keeps a reported payment for confirmation or matching; false when it is already held. */
  async holdPayment(held: HeldPayment): Promise<boolean> {
    const inserted = await this.statements.insert(HELD, heldPaymentToColumns(held), {
      onConflictDoNothing: ["provider", "providerAccount", "providerPaymentRef"],
    });
    return inserted === 1;
  }

  /** Reads a held payment for change by its provider reference (row-locked until commit on PostgreSQL). */
  async lockHeldPayment(provider: string, report: Pick<ReportedPayment, "providerAccount" | "providerPaymentRef">): Promise<HeldPayment | undefined> {
    const sql = `select * from "held_payment" where "provider" = ? and "provider_account" = ? and "provider_payment_ref" = ?${this.forUpdate}`;
    const [row] = await this.statements.select<HeldPaymentRow>(HELD, sql, [provider, report.providerAccount, report.providerPaymentRef]);
    return row ? heldPaymentFromRow(row) : undefined;
  }

  /** The VA a recorded payment is on. */
  async virtualAccountIdOfPayment(
    provider: string,
    report: Pick<ReportedPayment, "providerAccount" | "providerPaymentRef">,
  ): Promise<string | undefined> {
    const sql = 'select "virtual_account_id" from "payment" where "provider" = ? and "provider_account" = ? and "provider_payment_ref" = ?';
    const [row] = await this.statements.select<PaymentRow>(PaymentRow.meta.className, sql, [provider, report.providerAccount, report.providerPaymentRef]);
    return row?.virtualAccountId;
  }

  async updateHeldPayment(held: HeldPayment): Promise<void> {
    const { id, ...columns } = heldPaymentToColumns(held);
    await this.statements.update(HELD, columns, { id });
  }

  async updateVirtualAccount(va: VirtualAccount): Promise<void> {
    const { id, ...columns } = virtualAccountToColumns(va);
    const updated = await this.statements.update(VA, columns, { id }, { bumpVersion: "version" });
    if (updated !== 1) throw new DomainError("ABORTED", "virtual account changed concurrently; retry");
  }

  /** Inserts the payment unless its provider reference is already recorded. True when new. */
  async insertPaymentIfNew(payment: Payment): Promise<boolean> {
    const inserted = await this.statements.insert(PaymentRow.meta.className, paymentToColumns(payment), {
      onConflictDoNothing: ["provider", "providerAccount", "providerPaymentRef"],
    });
    return inserted === 1;
  }

  /** Saves a change to a VA together with the event that tells it: no state change without its event. */
  async saveChange(va: VirtualAccount, type: EventType, cause: EventCause, payment?: Payment): Promise<void> {
    await this.updateVirtualAccount(va);
    await this.appendEvent({ tenantId: va.tenantId, type, cause, occurredAt: va.updatedAt, virtualAccount: va, payment });
  }

  async appendEvent(event: NewEvent): Promise<bigint> {
    const columns = [
      event.tenantId,
      event.virtualAccount.id,
      event.virtualAccount.merchantReference,
      event.type,
      event.cause,
      event.occurredAt,
      snapshot(event.virtualAccount),
      event.payment ? snapshot(event.payment) : null,
    ];
    const [row] =
      this.dialect === "postgresql"
        ? await this.statements.select<EventRow>(EventRow.meta.className, APPEND_EVENT_POSTGRESQL, [...columns, EVENT_APPEND_LOCK, EVENT_CHANNEL])
        : await this.statements.select<EventRow>(EventRow.meta.className, APPEND_EVENT_SQLITE, columns);
    if (!row) throw new Error("event insert returned no sequence");
    this.markAppended();
    return BigInt(row.sequence);
  }

  /**
   * Marks the key done, if this request still holds it (`claimedAt` is when it claimed or retook
   * it). A request that outlived its lease and lost the key to a retry must not commit as well.
   */
  async completeIdempotencyKey(
    claim: { tenantId: string; operation: string; key: string; claimedAt: Date },
    virtualAccountId: string,
  ): Promise<void> {
    const { claimedAt, ...scope } = claim;
    const done = await this.statements.update(
      IDEMPOTENCY,
      { state: "DONE", virtualAccountId },
      { ...scope, state: "IN_FLIGHT", createdAt: claimedAt },
    );
    if (done !== 1) {
      throw new DomainError("ABORTED", `idempotency_key: "${scope.key}" was taken over by a retry of this request`, {
        field: "idempotency_key",
      });
    }
  }

  async releaseIdempotencyKey(claim: { tenantId: string; operation: string; key: string; claimedAt: Date }): Promise<void> {
    const { claimedAt, ...scope } = claim;
    await this.em.nativeDelete(IdempotencyRow, { ...scope, state: "IN_FLIGHT", createdAt: claimedAt });
  }
}
