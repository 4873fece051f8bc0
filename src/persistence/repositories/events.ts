import type { EventFilter, VaEvent } from "../../domain/event.js";
import type { Payment } from "../../domain/payment.js";
import type { VirtualAccount } from "../../domain/virtual-account.js";
import type { EventRow } from "../entities.js";
import {
  ANNOUNCE_EVENTS,
  APPEND_EVENT_POSTGRESQL,
  APPEND_EVENT_SQLITE,
  EVENTS_PER_TRANSACTION,
  LAST_SEQUENCE,
  readEvents,
  event as table,
} from "../sql.js";
import type { Statements } from "../statements.js";

/** PostgreSQL channel that carries "new events committed" to every replica. */
export const EVENT_CHANNEL = "va_events";

export type NewEvent = Omit<VaEvent, "sequence">;

/**
 * The va_event table: the event log, read in sequence order.
 *
 * How a reader resumes from a sequence number without ever skipping an event that commits late.
 *
 * SQLite runs one writer at a time, so sequence order is commit order and a reader may read
 * everything it sees.
 *
 * PostgreSQL appends take no lock: concurrent transactions commit in any order. Each event's
 * sequence is its writing transaction's id (xid8) times 2^20 plus its ordinal in that transaction
 * (sql.ts), so the log is ordered by writing transaction, and a reader reads only below the
 * horizon: the range of the oldest transaction of this database still in flight in the read's
 * own snapshot. Why nothing is skipped:
 * - every transaction below the horizon has ended, so the events below it are all visible to the
 *   read, and xids are handed out in increasing order, so no later transaction can add one there;
 * - the horizon only rises, and a reader only returns events below it, so whatever it returns
 *   is a prefix of the final log: a cursor N means "everything up to N, for good".
 * A transaction still open holds back the events after it (also those of transactions that
 * committed meanwhile) until it ends, then they are read in sequence order. Read outside a
 * transaction that appends: a transaction's own xid is not in its snapshot.
 *
 * The ordinal is counted here, per repository (one per transaction): a transaction that wrote more
 * than 2^20 events would reuse one and fail on the primary key rather than misorder. A NOTIFY
 * inside the append transaction would serialise all commits again (see sql.ts), so `announce`
 * tells the other replicas after the commit.
 *
 * Sequences written before this numbering (when one lock ordered commits) stay as they were and
 * are all below the new ones, so old cursors still resume. The numbering relies on the cluster's
 * xid counter only going forward: a logical dump restored into a fresh cluster must first move that
 * counter past the highest sequence ÷ 2^20 (`pg_resetwal -x`); pg_upgrade and physical copies keep it.
 */
export class Events {
  private appended = 0;

  /** `onAppend`: told of every append, so the transaction can wake stream readers after its commit. */
  constructor(
    private readonly statements: Statements,
    private readonly onAppend: () => void = () => undefined,
  ) {}

  async append(event: NewEvent): Promise<bigint> {
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
      this.statements.dialect === "postgresql"
        ? await this.statements.select(table, APPEND_EVENT_POSTGRESQL, [this.appended++ % EVENTS_PER_TRANSACTION, ...columns])
        : await this.statements.select(table, APPEND_EVENT_SQLITE, columns);
    if (!row) throw new Error("event insert returned no sequence");
    this.onAppend();
    return BigInt(row.sequence);
  }

  /** Events in (after, upTo] in order, optionally narrowed to one subscriber's filter (every live stream's wake-up). */
  async read(range: { after: bigint; upTo?: bigint }, limit: number, filter?: EventFilter): Promise<VaEvent[]> {
    return (await this.page(range, limit, filter)).events;
  }

  /**
   * Like `read`, and `heldBack` tells whether events after these are committed but not readable
   * yet (behind a transaction still in flight): the caller should look again soon.
   */
  async page(
    range: { after: bigint; upTo?: bigint },
    limit: number,
    filter?: EventFilter,
  ): Promise<{ events: VaEvent[]; heldBack: boolean }> {
    const params: unknown[] = [range.after];
    if (range.upTo !== undefined) params.push(range.upTo);
    let narrowedTo: "virtualAccountId" | "merchantReference" | undefined;
    if (filter) {
      params.push(filter.tenantId);
      if (filter.kind === "VIRTUAL_ACCOUNT") {
        narrowedTo = "virtualAccountId";
        params.push(filter.virtualAccountId);
      } else if (filter.kind === "MERCHANT_REFERENCE") {
        narrowedTo = "merchantReference";
        params.push(filter.merchantReference);
      }
    }
    params.push(limit);
    const text = readEvents({ upTo: range.upTo !== undefined, tenant: filter !== undefined, narrowedTo });
    const rows = (await this.statements.select(table, text, params)) as (EventRow & { horizon: unknown })[];
    const readable = rows.filter((row) => row.horizon === null || BigInt(row.sequence) < BigInt(row.horizon as string));
    return { events: readable.map(eventFromRow), heldBack: readable.length < rows.length };
  }

  /** Wakes every replica's listener (PostgreSQL NOTIFY); call after a commit that appended events. */
  async announce(): Promise<void> {
    if (this.statements.dialect === "postgresql") await this.statements.rows(ANNOUNCE_EVENTS, [EVENT_CHANNEL]);
  }

  async lastSequence(): Promise<bigint> {
    const row = await this.statements.selectFirst(table, LAST_SEQUENCE, []);
    return row ? BigInt(row.sequence) : 0n;
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

const DATE_KEYS = new Set(["expiresAt", "createdAt", "updatedAt", "paidAt", "recordedAt"]);
const BIGINT_KEYS = new Set(["paidAmount", "amount", "min", "max", "fee"]);

/** JSON with bigints as decimal strings; `parseSnapshot` restores the exact types. */
const snapshot = (value: VirtualAccount | Payment): string =>
  JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v));

function parseSnapshot<T extends VirtualAccount | Payment>(json: string): T {
  return JSON.parse(json, (key, v) => {
    if (DATE_KEYS.has(key) && typeof v === "string") return new Date(v);
    if (BIGINT_KEYS.has(key) && typeof v === "string") return BigInt(v);
    return v;
  }) as T;
}
