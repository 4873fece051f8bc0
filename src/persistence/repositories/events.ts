import type { EventFilter, VaEvent } from "../../domain/event.js";
import type { Payment } from "../../domain/payment.js";
import type { VirtualAccount } from "../../domain/virtual-account.js";
import type { EventRow } from "../entities.js";
import { APPEND_EVENT_POSTGRESQL, APPEND_EVENT_SQLITE, LAST_SEQUENCE, readEvents, event as table } from "../sql.js";
import type { Statements } from "../statements.js";

/** PostgreSQL channel that carries "new events committed" to every replica. */
export const EVENT_CHANNEL = "va_events";
/**
 * Held from the event insert until commit, so sequence numbers are handed out in commit order and a
 * reader that has seen sequence N can never later find a smaller one committing behind it.
 */
const EVENT_APPEND_LOCK = 0x76615f65;

export type NewEvent = Omit<VaEvent, "sequence">;

/** The va_event table: the event log, read in sequence order. */
export class Events {
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
        ? await this.statements.select(table, APPEND_EVENT_POSTGRESQL, [...columns, EVENT_APPEND_LOCK, EVENT_CHANNEL])
        : await this.statements.select(table, APPEND_EVENT_SQLITE, columns);
    if (!row) throw new Error("event insert returned no sequence");
    this.onAppend();
    return BigInt(row.sequence);
  }

  /** Events in (after, upTo] in order, optionally narrowed to one subscriber's filter (every live stream's wake-up). */
  async read(range: { after: bigint; upTo?: bigint }, limit: number, filter?: EventFilter): Promise<VaEvent[]> {
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
    const rows = await this.statements.select(table, text, params);
    return rows.map(eventFromRow);
  }

  async lastSequence(): Promise<bigint> {
    const [row] = await this.statements.select(table, LAST_SEQUENCE, []);
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
