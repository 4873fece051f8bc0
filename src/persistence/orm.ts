import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { MigrationObject } from "@mikro-orm/core";
import { LibSqlDriver, MikroORM as LibSqlOrm } from "@mikro-orm/libsql";
import { Migrator } from "@mikro-orm/migrations";
import { MikroORM as PostgreSqlOrm, PostgreSqlDriver } from "@mikro-orm/postgresql";
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
  close(): Promise<void>;
}

const migrationsOptions = (list: MigrationObject[]) => ({
  migrationsList: list,
  transactional: true,
  allOrNothing: true,
  snapshot: false,
  silent: true,
});

/** Opens the database and applies pending migrations; both dialects share one entity model. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  const orm = config.url ? await openPostgreSql(config.url, config.poolSize) : await openSqlite(config.sqlitePath);
  await orm.getMigrator().up();
  if (config.url || config.sqlitePath === ":memory:") {
    return { orm, dialect: config.url ? "postgresql" : "sqlite", close: () => orm.close(true) };
  }
  const checkpointer = startWalCheckpointer(config.sqlitePath, {
    intervalMs: WAL_CHECKPOINT_INTERVAL_MS,
    onError: config.onBackgroundError ?? (() => undefined),
  });
  return {
    orm,
    dialect: "sqlite",
    close: async () => {
      await orm.close(true);
      await checkpointer.stop();
    },
  };
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
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    debug: false,
  });
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
