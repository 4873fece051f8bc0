import type { SqlEntityManager as EntityManager, Knex } from "@mikro-orm/knex";
import type { Dialect, SqliteReader } from "./orm.js";
import { deleteFrom, insertInto, type SqlText, type Table, updateOf } from "./sql.js";

/**
 * Runs the SQL texts of sql.ts as plain parameterised statements: values are converted by the ORM's
 * platform and rows mapped to property names by its metadata, but the query builder, entity
 * hydration and unit of work are skipped, which profiles showed to be most of a callback's CPU.
 *
 * They run through knex with bound parameters, not `em.execute()`: that one inlines every value
 * into the SQL text (`platform.formatQuery`), so no two statements are alike and SQLite compiles
 * each one afresh. Bound, the texts repeat and the connection's statement cache
 * (sqlite-statement-cache.ts) serves them compiled.
 */
export class Statements {
  constructor(
    private readonly em: EntityManager,
    readonly dialect: Dialect,
    /** Serves selects made outside a transaction (SQLite in a file); the rest go through knex. */
    private readonly reader?: SqliteReader,
  ) {}

  /** `insert … [on conflict (…) do nothing]`; resolves to the affected row count. */
  async insert<Row>(
    into: Table<Row>,
    columns: Partial<Record<keyof Row & string, unknown>>,
    options: { onConflictDoNothing?: (keyof Row & string)[] } = {},
  ): Promise<number> {
    return this.execute(insertInto(into, Object.keys(columns), options.onConflictDoNothing), Object.values(columns));
  }

  /** `update … set … [, version = version + 1] where a = ? and b = ?`; resolves to the affected row count. */
  async update<Row>(
    of: Table<Row>,
    set: Partial<Record<keyof Row & string, unknown>>,
    where: Partial<Record<keyof Row & string, unknown>>,
    options: { bumpVersion?: keyof Row & string } = {},
  ): Promise<number> {
    const text = updateOf(of, Object.keys(set), Object.keys(where), options.bumpVersion);
    return this.execute(text, [...Object.values(set), ...Object.values(where)]);
  }

  /** `delete … where a = ? and b = ?`; resolves to the affected row count. */
  async delete<Row>(from: Table<Row>, where: Partial<Record<keyof Row & string, unknown>>): Promise<number> {
    return this.execute(deleteFrom(from, Object.keys(where)), Object.values(where));
  }

  /** Rows of a select from `from`, mapped to its property names and types. */
  async select<Row>(from: Table<Row>, text: SqlText, params: unknown[]): Promise<Row[]> {
    const rows = await this.rows(text, params);
    const comparator = this.em.getComparator();
    return rows.map((row) => comparator.mapResult(from.entity, row) as Row);
  }

  /** The first row of a select from `from`, mapped like `select`'s. */
  async selectFirst<Row>(from: Table<Row>, text: SqlText, params: unknown[]): Promise<Row | undefined> {
    const reader = this.readerFor(text);
    const [row] = reader
      ? [reader.first(text.resolve(this.em.getMetadata(), this.dialect), this.values(params))]
      : await this.rows(text, params);
    return row === undefined ? undefined : (this.em.getComparator().mapResult(from.entity, row) as Row);
  }

  /** Rows as the driver answers them (aggregates). */
  async rows(text: SqlText, params: unknown[]): Promise<Record<string, unknown>[]> {
    return resultRows(await this.run(text, params));
  }

  /** An insert, update or delete given as text; resolves to the affected row count. */
  async execute(text: SqlText, params: unknown[]): Promise<number> {
    return affectedRows(await this.run(text, params));
  }

  /** In the EntityManager's transaction when it has one. */
  private async run(text: SqlText, params: unknown[]): Promise<unknown> {
    const sql = text.resolve(this.em.getMetadata(), this.dialect);
    const reader = this.readerFor(text);
    if (reader) return reader.all(sql, this.values(params));
    const transaction = this.em.getTransactionContext<Knex.Transaction>();
    return (transaction ?? this.em.getKnex()).raw(sql, this.values(params) as Knex.RawBinding[]);
  }

  /** The read connection, for a select made outside a transaction. */
  private readerFor(text: SqlText): SqliteReader | undefined {
    return this.reader && text.reads && !this.em.getTransactionContext() ? this.reader : undefined;
  }

  private values(params: unknown[]): unknown[] {
    const platform = this.em.getPlatform();
    return params.map((value) => {
      if (value instanceof Date) return platform.processDateProperty(value);
      if (typeof value === "bigint") return value.toString();
      return value ?? null;
    });
  }
}

/** knex answers a raw statement in the driver's own shape: libsql an array of rows or a run info, pg a result. */
function resultRows(result: unknown): Record<string, unknown>[] {
  return (Array.isArray(result) ? result : (result as { rows: Record<string, unknown>[] }).rows) ?? [];
}

function affectedRows(result: unknown): number {
  const { changes, rowCount } = result as { changes?: number; rowCount?: number };
  return changes ?? rowCount ?? 0;
}
