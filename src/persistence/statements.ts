import type { EntityMetadata } from "@mikro-orm/core";
import type { Knex, SqlEntityManager as EntityManager } from "@mikro-orm/knex";

/**
 * Plain parameterised statements for the hot paths (recording a payment, appending and reading
 * events, creating and reading a VA). Column names come from the ORM's metadata and values are
 * converted by its platform, so the tables stay defined once; what is skipped is the query builder
 * and entity hydration, which profiles showed to be most of a callback's CPU. SQL text is built once per
 * table and column set; identifiers are double-quoted, which SQLite and PostgreSQL both read.
 *
 * They run through knex with bound parameters, not `em.execute()`: that one inlines every value
 * into the SQL text (`platform.formatQuery`), so no two statements are alike and SQLite compiles
 * each one afresh. Bound, the texts repeat and the connection's statement cache
 * (sqlite-statement-cache.ts) serves them compiled.
 */
const SQL_TEXT = new Map<string, string>();

export class Statements {
  constructor(private readonly em: EntityManager) {}

  /** `insert … [on conflict (…) do nothing]`; resolves to the affected row count. */
  async insert(
    entity: string,
    columns: Record<string, unknown>,
    options: { onConflictDoNothing?: string[] } = {},
  ): Promise<number> {
    const names = Object.keys(columns);
    const sql = this.cached(`insert:${entity}:${names}:${options.onConflictDoNothing ?? ""}`, () => {
      const meta = this.meta(entity);
      const conflict = options.onConflictDoNothing
        ? ` on conflict (${options.onConflictDoNothing.map((n) => this.column(meta, n)).join(", ")}) do nothing`
        : "";
      return `insert into "${meta.tableName}" (${names.map((n) => this.column(meta, n)).join(", ")}) values (${names.map(() => "?").join(", ")})${conflict}`;
    });
    return affectedRows(await this.run(sql, this.values(columns)));
  }

  /** `update … set … [, version = version + 1] where a = ? and b = ?`; resolves to the affected row count. */
  async update(
    entity: string,
    set: Record<string, unknown>,
    where: Record<string, unknown>,
    options: { bumpVersion?: string } = {},
  ): Promise<number> {
    const setNames = Object.keys(set);
    const whereNames = Object.keys(where);
    const sql = this.cached(`update:${entity}:${setNames}:${whereNames}:${options.bumpVersion ?? ""}`, () => {
      const meta = this.meta(entity);
      const assignments = setNames.map((n) => `${this.column(meta, n)} = ?`);
      if (options.bumpVersion) {
        const version = this.column(meta, options.bumpVersion);
        assignments.push(`${version} = ${version} + 1`);
      }
      return `update "${meta.tableName}" set ${assignments.join(", ")} where ${whereNames.map((n) => `${this.column(meta, n)} = ?`).join(" and ")}`;
    });
    return affectedRows(await this.run(sql, [...this.values(set), ...this.values(where)]));
  }

  /** Rows of a select, mapped to the entity's property names and types. */
  async select<T>(entity: string, sql: string, params: unknown[]): Promise<T[]> {
    const rows = resultRows(await this.run(sql, this.values(params)));
    const comparator = this.em.getComparator();
    return rows.map((row) => comparator.mapResult(entity, row) as T);
  }

  /** In the EntityManager's transaction when it has one. */
  private run(sql: string, bindings: unknown[]): Promise<unknown> {
    const transaction = this.em.getTransactionContext<Knex.Transaction>();
    return (transaction ?? this.em.getKnex()).raw(sql, bindings as Knex.RawBinding[]);
  }

  private values(source: Record<string, unknown> | unknown[]): unknown[] {
    const platform = this.em.getPlatform();
    return Object.values(source).map((value) => {
      if (value instanceof Date) return platform.processDateProperty(value);
      if (typeof value === "bigint") return value.toString();
      return value ?? null;
    });
  }

  private meta(entity: string): EntityMetadata {
    return this.em.getMetadata().get(entity);
  }

  private column(meta: EntityMetadata, property: string): string {
    const field = meta.properties[property]?.fieldNames[0];
    if (!field) throw new Error(`${meta.className} has no property ${property}`);
    return `"${field}"`;
  }

  private cached(key: string, build: () => string): string {
    let sql = SQL_TEXT.get(key);
    if (sql === undefined) {
      sql = build();
      SQL_TEXT.set(key, sql);
    }
    return sql;
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
