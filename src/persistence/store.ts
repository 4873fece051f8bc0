import type { SqlEntityManager as EntityManager } from "@mikro-orm/knex";
import type { EventCause, EventType } from "../domain/event.js";
import type { Payment } from "../domain/payment.js";
import type { VirtualAccount } from "../domain/virtual-account.js";
import { inSpan, SpanKind } from "../tracing.js";
import type { Database } from "./orm.js";
import { BillerInquiries } from "./repositories/biller-inquiries.js";
import { Events } from "./repositories/events.js";
import { HeldPayments } from "./repositories/held-payments.js";
import { IdempotencyKeys } from "./repositories/idempotency-keys.js";
import { Payments } from "./repositories/payments.js";
import { SnapExternalIds } from "./repositories/snap-external-ids.js";
import { VirtualAccounts } from "./repositories/virtual-accounts.js";
import { Statements } from "./statements.js";

/** One repository per table, all running on the same statements (a pool, or one transaction). */
class Repositories {
  readonly virtualAccounts: VirtualAccounts;
  readonly payments: Payments;
  readonly events: Events;
  readonly idempotencyKeys: IdempotencyKeys;
  readonly heldPayments: HeldPayments;
  readonly snapExternalIds: SnapExternalIds;
  readonly billerInquiries: BillerInquiries;

  constructor(statements: Statements, onEventAppended?: () => void) {
    this.virtualAccounts = new VirtualAccounts(statements);
    this.payments = new Payments(statements);
    this.events = new Events(statements, onEventAppended);
    this.idempotencyKeys = new IdempotencyKeys(statements);
    this.heldPayments = new HeldPayments(statements);
    this.snapExternalIds = new SnapExternalIds(statements);
    this.billerInquiries = new BillerInquiries(statements);
  }
}

/**
 * The service's state. Its repositories run on the pool: reads, and the claims that must commit on
 * their own (idempotency keys, SNAP request ids). Every other write happens inside `transaction`.
 */
export class Store extends Repositories {
  private readonly afterCommit = new Set<() => void>();

  /** Outside a transaction statements run on the pool and touch no EntityManager state. */
  constructor(readonly database: Database) {
    super(new Statements(database.orm.em, database.dialect, database.reader));
  }

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
      const em = this.database.orm.em.fork();
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
}

/** The repositories inside one transaction. A row read with a `lock…` method stays locked until commit. */
export class StoreTransaction extends Repositories {
  constructor(em: EntityManager, dialect: Database["dialect"], onEventAppended: () => void) {
    super(new Statements(em, dialect), onEventAppended);
  }

  /** Saves a change to a VA together with the event that tells it: no state change without its event. */
  async saveChange(va: VirtualAccount, type: EventType, cause: EventCause, payment?: Payment): Promise<void> {
    await this.virtualAccounts.update(va);
    await this.events.append({ tenantId: va.tenantId, type, cause, occurredAt: va.updatedAt, virtualAccount: va, payment });
  }
}
