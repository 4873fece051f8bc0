import type { MetadataStorage } from "@mikro-orm/core";
import {
  BillerInquiryRow,
  EventRow,
  HeldPaymentRow,
  IdempotencyRow,
  PaymentRow,
  SnapExternalIdRow,
  VirtualAccountRow,
} from "./entities.js";
import type { Dialect } from "./orm.js";

/**
 * Every SQL text the store runs. Tables and columns are named through the ORM's metadata
 * (`${va}`, `${va.tenantId}`), so they stay defined once, in entities.ts; names are resolved on first
 * use and double-quoted, which SQLite and PostgreSQL both read. Each text is built once and then
 * reused as is: with bound parameters the texts stay few and repeat, so SQLite's statement cache
 * (sqlite-statement-cache.ts) serves them compiled.
 */

/** A table or one of its columns, named as the ORM's metadata names it. */
class SqlName {
  constructor(
    readonly entity: string,
    readonly property?: string,
  ) {}

  resolve(metadata: MetadataStorage): string {
    const meta = metadata.get(this.entity);
    if (this.property === undefined) return `"${meta.tableName}"`;
    const field = meta.properties[this.property]?.fieldNames?.[0];
    if (!field) throw new Error(`${this.entity} has no property ${this.property}`);
    return `"${field}"`;
  }
}

/** A table, with one `SqlName` per column under its property name. */
export type Table<Row> = SqlName & { readonly [P in keyof Row & string]-?: SqlName };
type AnyTable = Table<object>;

function table<Row>(entity: { meta: { className: string; properties: object } }): Table<Row> {
  const name = new SqlName(entity.meta.className);
  const columns: Record<string, SqlName> = {};
  for (const property of Object.keys(entity.meta.properties)) {
    if (property in name) throw new Error(`${entity.meta.className}.${property} shadows a member of SqlName`);
    columns[property] = new SqlName(entity.meta.className, property);
  }
  return Object.assign(name, columns) as Table<Row>;
}

function column(of: AnyTable, property: string): SqlName {
  const name = (of as unknown as Record<string, SqlName | undefined>)[property];
  if (!(name instanceof SqlName) || name.property === undefined) throw new Error(`${of.entity} has no property ${property}`);
  return name;
}

/** Text that differs between the dialects. */
class DialectText {
  constructor(readonly text: Record<Dialect, string | SqlText>) {}
}

/**
 * Reads the rows for change: on PostgreSQL they stay locked until commit; SQLite serialises writers
 * itself, so both give the reader the last committed state. The one way a row is locked.
 */
const FOR_UPDATE = new DialectText({ postgresql: " for update", sqlite: "" });

type Part = SqlName | SqlText | DialectText;

export class SqlText {
  private readonly resolved: Partial<Record<Dialect, string>> = {};

  /** A select: it changes nothing, so it may run on a read-only connection. */
  readonly reads: boolean;

  constructor(
    private readonly strings: readonly string[],
    private readonly parts: readonly Part[],
  ) {
    this.reads = /^\s*select\b/i.test(strings[0] ?? "");
  }

  resolve(metadata: MetadataStorage, dialect: Dialect): string {
    let text = this.resolved[dialect];
    if (text === undefined) {
      text = this.strings[0] ?? "";
      this.parts.forEach((part, i) => {
        const chosen = part instanceof DialectText ? part.text[dialect] : part;
        const resolved = typeof chosen === "string" ? chosen : chosen.resolve(metadata, dialect);
        text += resolved + this.strings[i + 1];
      });
      this.resolved[dialect] = text;
    }
    return text;
  }
}

const sql = (strings: TemplateStringsArray, ...parts: Part[]): SqlText => new SqlText(strings, parts);

/** `parts` separated by `separator` (fixed text of this module, never a value). */
function join(parts: readonly Part[], separator: string): SqlText {
  if (parts.length === 0) return sql``;
  return new SqlText(["", ...parts.slice(1).map(() => separator), ""], parts);
}

const placeholders = (count: number): SqlText => new SqlText([Array.from({ length: count }, () => "?").join(", ")], []);

const GENERATED = new Map<string, SqlText>();

/** Texts made from a shape (which columns, which filters) are built once per shape. */
function once(key: string, build: () => SqlText): SqlText {
  let text = GENERATED.get(key);
  if (text === undefined) {
    text = build();
    GENERATED.set(key, text);
  }
  return text;
}

export function insertInto(into: AnyTable, properties: readonly string[], onConflictDoNothing?: readonly string[]): SqlText {
  return once(`insert:${into.entity}:${properties}:${onConflictDoNothing ?? ""}`, () => {
    const columns = join(
      properties.map((p) => column(into, p)),
      ", ",
    );
    const conflictColumns =
      onConflictDoNothing &&
      join(
        onConflictDoNothing.map((p) => column(into, p)),
        ", ",
      );
    const conflict = conflictColumns ? sql` on conflict (${conflictColumns}) do nothing` : sql``;
    return sql`insert into ${into} (${columns}) values (${placeholders(properties.length)})${conflict}`;
  });
}

const equalsEach = (of: AnyTable, properties: readonly string[]) => properties.map((p) => sql`${column(of, p)} = ?`);

/** `update … set a = ?, … [, version = version + 1] where b = ? and …` */
export function updateOf(of: AnyTable, set: readonly string[], where: readonly string[], bumpVersion?: string): SqlText {
  return once(`update:${of.entity}:${set}:${where}:${bumpVersion ?? ""}`, () => {
    const assignments = equalsEach(of, set);
    if (bumpVersion) {
      const version = column(of, bumpVersion);
      assignments.push(sql`${version} = ${version} + 1`);
    }
    return sql`update ${of} set ${join(assignments, ", ")} where ${join(equalsEach(of, where), " and ")}`;
  });
}

/** `delete from … where a = ? and …` */
export function deleteFrom(from: AnyTable, where: readonly string[]): SqlText {
  return once(`delete:${from.entity}:${where}`, () => sql`delete from ${from} where ${join(equalsEach(from, where), " and ")}`);
}

export const va = table<VirtualAccountRow>(VirtualAccountRow);
export const payment = table<PaymentRow>(PaymentRow);
export const event = table<EventRow>(EventRow);
export const idempotencyKey = table<IdempotencyRow>(IdempotencyRow);
export const heldPayment = table<HeldPaymentRow>(HeldPaymentRow);
export const snapExternalId = table<SnapExternalIdRow>(SnapExternalIdRow);
export const billerInquiry = table<BillerInquiryRow>(BillerInquiryRow);

// virtual_account

export const FIND_VIRTUAL_ACCOUNT = sql`select * from ${va} where ${va.id} = ? and ${va.tenantId} = ?`;
export const LOCK_VIRTUAL_ACCOUNT = sql`select * from ${va} where ${va.id} = ?${FOR_UPDATE}`;
export const LOCK_TENANT_VIRTUAL_ACCOUNT = sql`select * from ${va} where ${va.id} = ? and ${va.tenantId} = ?${FOR_UPDATE}`;
export const LOCK_NEWEST_VIRTUAL_ACCOUNT_BY_NUMBER = sql`select * from ${va} where ${va.provider} = ? and ${va.providerAccount} = ? and ${va.vaNumber} = ? order by ${va.createdAt} desc limit 1${FOR_UPDATE}`;

const VA_OF_PROVIDER_ACCOUNT = sql`select * from ${va} where ${va.provider} = ? and ${va.providerAccount} = ?`;
/** The four tries of `VirtualAccounts.lockForPayment`, in its order; each takes (provider, providerAccount, …). */
export const LOCK_VIRTUAL_ACCOUNT_FOR_PAYMENT = {
  /** (providerVaId, vaNumber) */
  byIdentity: sql`${VA_OF_PROVIDER_ACCOUNT} and ${va.providerVaId} = ? and ${va.vaNumber} = ? order by ${va.createdAt} desc limit 1${FOR_UPDATE}`,
  /** (vaNumber) */
  byNumberWithoutIdentity: sql`${VA_OF_PROVIDER_ACCOUNT} and ${va.vaNumber} = ? and ${va.providerVaId} is null order by ${va.createdAt} desc limit 1${FOR_UPDATE}`,
  /** (vaNumber, paidAt) */
  byNumberBeforePayment: sql`${VA_OF_PROVIDER_ACCOUNT} and ${va.vaNumber} = ? and ${va.createdAt} <= ? order by ${va.createdAt} desc limit 1${FOR_UPDATE}`,
  /** (vaNumber) */
  byNumberFirstAfter: sql`${VA_OF_PROVIDER_ACCOUNT} and ${va.vaNumber} = ? order by ${va.createdAt} asc limit 1${FOR_UPDATE}`,
};

/** (statuses…, now, limit) */
export const findDueVirtualAccounts = (statuses: number): SqlText =>
  once(
    `due-va:${statuses}`,
    () =>
      sql`select * from ${va} where ${va.status} in (${placeholders(statuses)}) and ${va.expiresAt} <= ? order by ${va.expiresAt} asc limit ?`,
  );

/** (openStatuses…, expiringBy, expiredStatus, expiredSince, limit) */
export const findVirtualAccountsToReconcile = (openStatuses: number): SqlText =>
  once(
    `reconcile-va:${openStatuses}`,
    () =>
      sql`select * from ${va} where (${va.status} in (${placeholders(openStatuses)}) and ${va.expiresAt} <= ?) or (${va.status} = ? and ${va.expiresAt} >= ?) order by ${va.expiresAt} asc limit ?`,
  );

/** Which filters of a VA listing are set (and how many statuses); the parameters follow in this order, then the page bound and limit. */
interface VirtualAccountListShape {
  statuses: number;
  bankCode: boolean;
  provider: boolean;
  merchantReference: boolean;
  createdFrom: boolean;
  createdBefore: boolean;
  after: boolean;
}

/**
 * (tenantId, statuses…, bankCode, provider, merchantReference, createdFrom, createdBefore, after
 * createdAt, after id, limit), each only when set.
 */
export function listVirtualAccounts(shape: VirtualAccountListShape): SqlText {
  return once(`list-va:${JSON.stringify(shape)}`, () => {
    const conditions: SqlText[] = [sql`${va.tenantId} = ?`];
    if (shape.statuses) conditions.push(sql`${va.status} in (${placeholders(shape.statuses)})`);
    if (shape.bankCode) conditions.push(sql`${va.bankCode} = ?`);
    if (shape.provider) conditions.push(sql`${va.provider} = ?`);
    if (shape.merchantReference) conditions.push(sql`${va.merchantReference} = ?`);
    if (shape.createdFrom) conditions.push(sql`${va.createdAt} >= ?`);
    if (shape.createdBefore) conditions.push(sql`${va.createdAt} < ?`);
    if (shape.after) conditions.push(sql`(${va.createdAt}, ${va.id}) < (?, ?)`);
    return sql`select * from ${va} where ${join(conditions, " and ")} order by ${va.createdAt} desc, ${va.id} desc limit ?`;
  });
}

// payment

const BY_PAYMENT_REF = sql`${payment.provider} = ? and ${payment.providerAccount} = ? and ${payment.providerPaymentRef} = ?`;
export const PAYMENT_EXISTS = sql`select ${payment.id} from ${payment} where ${BY_PAYMENT_REF}`;
export const VIRTUAL_ACCOUNT_OF_PAYMENT = sql`select ${payment.virtualAccountId} from ${payment} where ${BY_PAYMENT_REF}`;
export const LIST_PAYMENTS = sql`select * from ${payment} where ${payment.tenantId} = ? and ${payment.virtualAccountId} = ? order by ${payment.recordedAt} asc, ${payment.id} asc`;

// va_event

/** The columns an append writes, in its parameters' order. */
const EVENT_COLUMNS = [
  "tenantId",
  "virtualAccountId",
  "merchantReference",
  "type",
  "cause",
  "occurredAt",
  "virtualAccount",
  "payment",
] as const;
const EVENT_COLUMN_LIST = join(
  EVENT_COLUMNS.map((p) => event[p]),
  ", ",
);
export const APPEND_EVENT_SQLITE = sql`insert into ${event} (${EVENT_COLUMN_LIST}) values (?, ?, ?, ?, ?, ?, ?, ?) returning ${event.sequence}`;

/**
 * PostgreSQL numbers events by the transaction that writes them: sequence = xid × 2^20 + the
 * event's ordinal within its transaction (see repositories/events.ts for why readers may then read
 * below the horizon without missing a late commit). xid8 stays below 2^43 for as long as this
 * matters, so the number fits a bigint and the 19-digit cursor.
 */
export const EVENTS_PER_TRANSACTION = 1048576;
/**
 * (ordinal, columns…). No NOTIFY here: PostgreSQL serialises the commits of every transaction
 * that notifies (one cluster-wide lock from pre-commit to the end of commit), so replicas are told
 * after the commit instead (`ANNOUNCE_EVENTS`).
 */
export const APPEND_EVENT_POSTGRESQL = sql`insert into ${event} (${event.sequence}, ${EVENT_COLUMN_LIST}) values (pg_current_xact_id()::text::bigint * ${new SqlText([String(EVENTS_PER_TRANSACTION)], [])} + ?, ?, ?, ?, ?, ?, ?::timestamptz, ?, ?) returning ${event.sequence}`;
/** (channel) Tells every replica's listener that events were committed; on its own, after the commit. */
export const ANNOUNCE_EVENTS = sql`select pg_notify(?, '')`;

/**
 * The first sequence a reader may not read yet (SQLite: none, its writers are serial). It is the
 * range of the oldest transaction still in flight in this database, taken from the statement's own
 * snapshot: every transaction below it has ended, so the events below it are all visible and no
 * more will join them. Transactions of other databases in the cluster are left out, but only when
 * pg_stat_activity names their database; an xid it cannot place holds the horizon back, which
 * delays events but never skips one.
 */
const HORIZON = new DialectText({
  postgresql: `(select coalesce((select min(x::text::bigint) from pg_snapshot_xip(pg_current_snapshot()) as x where not exists (select 1 from pg_stat_activity as a where a.datname <> current_database() and a.backend_xid = (x::text::bigint % 4294967296)::text::xid)), pg_snapshot_xmax(pg_current_snapshot())::text::bigint) * ${EVENTS_PER_TRANSACTION})`,
  sqlite: "null",
});

/**
 * (after, [upTo], [tenantId, [virtualAccountId | merchantReference]], limit). Rows carry the horizon
 * as "horizon": the caller reads the rows below it and knows that those above it are held back.
 */
export function readEvents(shape: {
  upTo: boolean;
  tenant: boolean;
  narrowedTo?: "virtualAccountId" | "merchantReference";
}): SqlText {
  return once(`read-events:${shape.upTo}:${shape.tenant}:${shape.narrowedTo ?? ""}`, () => {
    const conditions: SqlText[] = [sql`${event.sequence} > ?`];
    if (shape.upTo) conditions.push(sql`${event.sequence} <= ?`);
    if (shape.tenant) conditions.push(sql`${event.tenantId} = ?`);
    if (shape.narrowedTo) conditions.push(sql`${event[shape.narrowedTo]} = ?`);
    return sql`select *, ${HORIZON} as "horizon" from ${event} where ${join(conditions, " and ")} order by ${event.sequence} asc limit ?`;
  });
}

/** The last event a reader may read (below the horizon). */
export const LAST_SEQUENCE = sql`select ${event.sequence} from ${event}${new DialectText({ postgresql: sql` where ${event.sequence} < ${HORIZON}`, sqlite: "" })} order by ${event.sequence} desc limit 1`;

// idempotency_key

export const FIND_IDEMPOTENCY_KEY = sql`select * from ${idempotencyKey} where ${idempotencyKey.tenantId} = ? and ${idempotencyKey.operation} = ? and ${idempotencyKey.key} = ?`;
/** (state, cutoff) */
export const DELETE_IDEMPOTENCY_KEYS_BEFORE = sql`delete from ${idempotencyKey} where ${idempotencyKey.state} = ? and ${idempotencyKey.createdAt} < ?`;

// held_payment

export const LOCK_HELD_PAYMENT = sql`select * from ${heldPayment} where ${heldPayment.provider} = ? and ${heldPayment.providerAccount} = ? and ${heldPayment.providerPaymentRef} = ?${FOR_UPDATE}`;
/** (state, now, limit) */
export const FIND_DUE_HELD_PAYMENTS = sql`select * from ${heldPayment} where ${heldPayment.state} = ? and ${heldPayment.nextAttemptAt} <= ? order by ${heldPayment.nextAttemptAt} asc limit ?`;
/** ([state], [provider], limit) */
export function listHeldPayments(shape: { state: boolean; provider: boolean }): SqlText {
  return once(`list-held:${shape.state}:${shape.provider}`, () => {
    const conditions: SqlText[] = [];
    if (shape.state) conditions.push(sql`${heldPayment.state} = ?`);
    if (shape.provider) conditions.push(sql`${heldPayment.provider} = ?`);
    const where = conditions.length ? sql` where ${join(conditions, " and ")}` : sql``;
    return sql`select * from ${heldPayment}${where} order by ${heldPayment.receivedAt} desc, ${heldPayment.id} desc limit ?`;
  });
}
/** (state) */
export const COUNT_HELD_PAYMENTS = sql`select ${heldPayment.provider} as "provider", ${heldPayment.reason} as "reason", count(*) as "count" from ${heldPayment} where ${heldPayment.state} = ? group by ${heldPayment.provider}, ${heldPayment.reason}`;

// snap_external_id

export const FIND_SNAP_EXTERNAL_ID = sql`select * from ${snapExternalId} where ${snapExternalId.partnerId} = ? and ${snapExternalId.day} = ? and ${snapExternalId.externalId} = ?`;
export const DELETE_SNAP_EXTERNAL_IDS_BEFORE = sql`delete from ${snapExternalId} where ${snapExternalId.day} < ?`;

// biller_inquiry

const BY_INQUIRY_KEY = sql`${billerInquiry.partnerId} = ? and ${billerInquiry.inquiryRequestId} = ?`;
export const FIND_BILLER_INQUIRY = sql`select * from ${billerInquiry} where ${BY_INQUIRY_KEY}`;
export const LOCK_BILLER_INQUIRY = sql`select * from ${billerInquiry} where ${BY_INQUIRY_KEY}${FOR_UPDATE}`;
/** (state, payBy limit, askedBefore, limit) */
export const BILLER_INQUIRIES_TO_RESOLVE = sql`select * from ${billerInquiry} where ${billerInquiry.state} = ? and ${billerInquiry.payBy} <= ? and (${billerInquiry.statusCheckedAt} is null or ${billerInquiry.statusCheckedAt} <= ?) order by ${billerInquiry.payBy} asc limit ?`;
