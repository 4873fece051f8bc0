import type { EntityMetadata, QueryResult } from "@mikro-orm/core";
import type { SqlEntityManager as EntityManager } from "@mikro-orm/knex";

/**
 * Plain parameterised statements for the write hot path (recording a payment, appending an
 * event, creating a VA). Column names come from the ORM's metadata and values are converted by its
 * platform, so the tables stay defined once; what is skipped is the query builder and entity
 * hydration, which profiles showed to be most of a callback's CPU. SQL text is built once per
 * table and column set; identifiers are double-quoted, which SQLite and PostgreSQL both read.
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
    const result = await this.em.execute<QueryResult>(sql, this.values(columns), "run");
    return result.affectedRows;
  }

  /** `insert … returning <one column>`: the value the database assigned. */
  async insertReturning(entity: string, columns: Record<string, unknown>, returning: string): Promise<unknown> {
    const names = Object.keys(columns);
    const sql = this.cached(`insert-returning:${entity}:${names}:${returning}`, () => {
      const meta = this.meta(entity);
      return `insert into "${meta.tableName}" (${names.map((n) => this.column(meta, n)).join(", ")}) values (${names.map(() => "?").join(", ")}) returning ${this.column(meta, returning)}`;
    });
    const [row] = (await this.em.execute(sql, this.values(columns), "all")) as Record<string, unknown>[];
    return row ? Object.values(row)[0] : undefined;
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
    const result = await this.em.execute<QueryResult>(sql, [...this.values(set), ...this.values(where)], "run");
    return result.affectedRows;
  }

  /** Rows of a select, mapped to the entity's property names and types. */
  async select<T>(entity: string, sql: string, params: unknown[]): Promise<T[]> {
    const rows = (await this.em.execute(sql, this.values(params), "all")) as Record<string, unknown>[];
    const comparator = this.em.getComparator();
    return rows.map((row) => comparator.mapResult(entity, row) as T);
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
