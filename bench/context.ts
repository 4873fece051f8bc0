import { randomBytes } from "node:crypto";
import pg from "pg";
import type { BenchOptions, Group } from "./options.js";
import type { Result } from "./report.js";

export const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** Throwaway PostgreSQL databases of one run, created on demand and dropped at its end. */
export class PostgresDatabases {
  private readonly created: string[] = [];
  private reason: Promise<string | undefined> | undefined;

  constructor(private readonly adminUrl: string) {}

  /** Why PostgreSQL scenarios cannot run, or undefined when they can. Asked once per run. */
  unavailable(): Promise<string | undefined> {
    this.reason ??= (async () => {
      const client = new pg.Client({ connectionString: this.adminUrl, connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        await client.query("select 1");
        return undefined;
      } catch (error) {
        return `PostgreSQL not reachable at ${this.adminUrl}: ${(error as Error).message}`;
      } finally {
        await client.end().catch(() => undefined);
      }
    })();
    return this.reason;
  }

  /** A new empty database; its URL. */
  async create(): Promise<string> {
    const name = `va_bench_${randomBytes(5).toString("hex")}`;
    await this.admin(`create database ${name}`);
    this.created.push(name);
    const url = new URL(this.adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  async dropAll(): Promise<void> {
    for (const name of this.created.splice(0)) {
      await this.admin(`drop database if exists ${name} with (force)`).catch((e: unknown) => log(`drop ${name}: ${e}`));
    }
  }

  private async admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

/** One run: its options, the rows measured so far and the databases it made. Scenarios add rows here. */
export class Bench {
  readonly results: Result[] = [];
  readonly postgres: PostgresDatabases;
  /** The last measured window, in CLOCK_MONOTONIC µs (for cutting a CPU profile to it). */
  lastWindow: { fromUs: number; toUs: number } | undefined;

  constructor(readonly options: BenchOptions) {
    this.postgres = new PostgresDatabases(options.postgresAdminUrl);
  }

  /** Whether --only asks for this scenario (by id or group); everything without --only. */
  selected(id: string, group: Group): boolean {
    const only = this.options.only;
    return !only || only.includes(id) || only.includes(group);
  }

  add(result: Result): void {
    this.results.push(result);
  }

  /** Records `ids` as skipped (when selected), e.g. without PostgreSQL. */
  skip(rows: readonly (readonly [id: string, group: Group])[], reason: string): void {
    for (const [id, group] of rows) if (this.selected(id, group)) this.add({ id, group, what: id, load: "-", skipped: reason });
  }
}
