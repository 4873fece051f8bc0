import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { MigrationObject } from "@mikro-orm/core";
import { LibSqlDriver, MikroORM as LibSqlOrm } from "@mikro-orm/libsql";
import { Migrator } from "@mikro-orm/migrations";
import { PostgreSqlDriver, MikroORM as PostgreSqlOrm } from "@mikro-orm/postgresql";
import Libsql from "libsql";
import pg from "pg";
import { ENTITIES } from "./entities.js";
import { postgresqlMigrations } from "./migrations/postgresql/index.js";
import { sqliteMigrations } from "./migrations/sqlite/index.js";
import { cachePreparedStatements } from "./sqlite-statement-cache.js";
import { startWalCheckpointer } from "./wal-checkpointer.js";

export type Dialect = "sqlite" | "postgresql";

export interface DatabaseConfig {
  /** `postgres://…` selects PostgreSQL; otherwise the embedded SQLite file at `sqlitePath`. */
  url: string | undefined;
  sqlitePath: string;
  poolSize?: number;
  /** Background failures (SQLite's checkpoint thread), reported rather than thrown. */
  onBackgroundError?: (message: string) => void;
}

export type Orm = LibSqlOrm | PostgreSqlOrm;

export interface Database {
  orm: Orm;
  dialect: Dialect;
  /** SQLite in a file: the connection that serves reads outside a transaction (see `openSqliteReader`). */
  reader?: SqliteReader;
  close(): Promise<void>;
}

/** Runs a select and answers its rows keyed by column name, as the driver's own rows are. */
export interface SqliteReader {
  all(sql: string, params: unknown[]): Record<string, unknown>[];
  /** The first row only: SQLite stops there. */
  first(sql: string, params: unknown[]): Record<string, unknown> | undefined;
}

const migrationsOptions = (list: MigrationObject[]) => ({
  migrationsList: list,
  transactional: true,
  allOrNothing: true,
  snapshot: false,
  silent: true,
});

/**
 * Opens the database and applies pending migrations; both dialects share one entity model. A
 * PostgreSQL database must exist (main.ts creates it beforehand in sandbox mode only).
 */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.url) await waitForPostgreSql(config.url, { waitMs: 0, createMissing: false });
  const orm = config.url ? await openPostgreSql(config.url, config.poolSize) : await openSqlite(config.sqlitePath);
  await orm.getMigrator().up();
  if (config.url || config.sqlitePath === ":memory:") {
    return { orm, dialect: config.url ? "postgresql" : "sqlite", close: () => orm.close(true) };
  }
  const checkpointer = startWalCheckpointer(config.sqlitePath, {
    intervalMs: WAL_CHECKPOINT_INTERVAL_MS,
    onError: config.onBackgroundError ?? (() => undefined),
  });
  const reader = openSqliteReader(config.sqlitePath);
  return {
    orm,
    dialect: "sqlite",
    reader,
    close: async () => {
      reader.close();
      await orm.close(true);
      await checkpointer.stop();
    },
  };
}

/** DATABASE_URL names a database that does not exist, and it may not be created (outside sandbox mode). */
export class MissingDatabaseError extends Error {
  override readonly name = "MissingDatabaseError";
}

export interface WaitForPostgreSqlOptions {
  /** How long to keep retrying a server that is down; 0: one attempt. */
  waitMs: number;
  createMissing: boolean;
  /** Told before each pause: one line naming host:port, never the URL (it may hold the password). */
  onRetry?: (message: string) => void;
}

const RETRY_FIRST_DELAY_MS = 250;
const RETRY_MAX_DELAY_MS = 5_000;
/** SQLSTATEs of a server that is there but cannot take us yet: starting up or shutting down, too many connections. */
const TRANSIENT_SQLSTATES = new Set(["57P03", "53300"]);

/**
 * Checks that PostgreSQL answers and that the database exists, before MikroORM (whose migrator
 * would create a missing database silently) connects. A server that cannot be reached is retried,
 * the pause doubling up to 5 s, until `waitMs` has passed; refused credentials are not retried.
 */
export async function waitForPostgreSql(url: string, options: WaitForPostgreSqlOptions): Promise<void> {
  const target = new URL(url);
  const server = `${target.searchParams.get("host") ?? (target.hostname || "localhost")}:${target.port || 5432}`;
  const database = decodeURIComponent(target.pathname.slice(1));
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const outcome = await tryConnect(url, server);
    if (outcome === "connected") return;
    if (outcome === "missing") {
      if (!options.createMissing) {
        throw new MissingDatabaseError(
          `DATABASE_URL names database "${database}", which does not exist on ${server} (create it first; only sandbox mode creates it)`,
        );
      }
      return createDatabase(url, database);
    }
    const delayMs = Math.min(RETRY_MAX_DELAY_MS, RETRY_FIRST_DELAY_MS * 2 ** (attempt - 1));
    if (Date.now() - started + delayMs > options.waitMs) {
      const tries = attempt === 1 ? "" : ` after ${attempt} attempts in ${Math.round((Date.now() - started) / 1000)} s`;
      throw new Error(`PostgreSQL at ${server} is not reachable (${outcome.unreachable})${tries}`);
    }
    options.onRetry?.(
      `PostgreSQL at ${server} is not reachable (${outcome.unreachable}); attempt ${attempt}, retrying in ${delayMs} ms`,
    );
    await sleep(delayMs);
  }
}

async function tryConnect(url: string, server: string): Promise<"connected" | "missing" | { unreachable: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return "connected";
  } catch (error) {
    if (!(error instanceof pg.DatabaseError)) {
      return { unreachable: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
    }
    if (error.code === "3D000") return "missing";
    if (error.code !== undefined && TRANSIENT_SQLSTATES.has(error.code)) return { unreachable: error.message };
    throw new Error(`PostgreSQL at ${server} refused the connection: ${error.message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function createDatabase(url: string, database: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query(`create database ${pg.escapeIdentifier(database)}`);
  } catch (error) {
    // Another replica starting at the same moment may have created it first.
    if (!(error instanceof pg.DatabaseError && error.code === "42P04")) throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** How often the checkpoint thread folds the write-ahead log back into the SQLite file. */
const WAL_CHECKPOINT_INTERVAL_MS = 1_000;

function openPostgreSql(url: string, poolSize = 10): Promise<PostgreSqlOrm> {
  return PostgreSqlOrm.init({
    driver: PostgreSqlDriver,
    clientUrl: url,
    entities: ENTITIES,
    extensions: [Migrator],
    migrations: migrationsOptions(postgresqlMigrations),
    pool: { min: 1, max: poolSize },
    // waitForPostgreSql decides whether a missing database may be created; MikroORM would always create it.
    ensureDatabase: false,
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    debug: false,
  });
}

/**
 * A read-only connection of its own for the reads made outside a transaction (an inquiry, a list,
 * the event hub's polls). The ORM's pool has one SQLite connection, reached through knex's query
 * runner and tarn's pool; that path, not SQLite, was most of an inquiry's database time, and every
 * read queued behind whichever transaction held the connection. In WAL mode this connection reads
 * the last committed state, as a read on the pool did, without waiting for writers. Not for an
 * in-memory database: a second connection to `:memory:` is another, empty database.
 */
function openSqliteReader(path: string): SqliteReader & { close(): void } {
  const connection = new Libsql(path);
  connection.exec("PRAGMA busy_timeout = 5000; PRAGMA query_only = 1;");
  cachePreparedStatements(connection);
  // Raw rows (value arrays) named here: libsql builds its row objects natively at about twice the cost.
  const columnsOf = new WeakMap<Libsql.Statement, string[]>();
  const prepare = (sql: string) => {
    const statement = connection.prepare(sql);
    let columns = columnsOf.get(statement);
    if (columns === undefined) {
      columns = statement
        .raw(true)
        .columns()
        .map((c) => c.name);
      columnsOf.set(statement, columns);
    }
    return { statement, columns };
  };
  const named = (columns: string[], values: unknown[]) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) row[columns[i] as string] = values[i];
    return row;
  };
  return {
    all(sql, params) {
      const { statement, columns } = prepare(sql);
      return (statement.all(params) as unknown[][]).map((values) => named(columns, values));
    },
    first(sql, params) {
      const { statement, columns } = prepare(sql);
      const values = statement.get(params) as unknown[] | undefined;
      return values === undefined ? undefined : named(columns, values);
    },
    close: () => connection.close(),
  };
}

function openSqlite(path: string): Promise<LibSqlOrm> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  return LibSqlOrm.init({
    driver: LibSqlDriver,
    dbName: path,
    entities: ENTITIES,
    extensions: [Migrator],
    migrations: migrationsOptions(sqliteMigrations),
    pool: {
      afterCreate: (
        connection: { exec(sql: string): void; prepare(sql: string): unknown },
        done: (error: Error | null, c: unknown) => void,
      ) => {
        // Checkpoints run on their own thread (wal-checkpointer.ts), never on a commit here.
        connection.exec(
          "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;",
        );
        cachePreparedStatements(connection);
        done(null, connection);
      },
    },
    allowGlobalContext: false,
    debug: false,
  });
}
