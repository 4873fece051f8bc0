import pg from "pg";
import type { VirtualAccount } from "../../src/domain/virtual-account.js";
import { openDatabase } from "../../src/persistence/orm.js";
import { EVENT_CHANNEL } from "../../src/persistence/repositories/events.js";
import { APPEND_EVENT_POSTGRESQL, APPEND_EVENT_SQLITE, updateOf, va as vaTable } from "../../src/persistence/sql.js";
import { Store } from "../../src/persistence/store.js";
import type { Bench } from "../context.js";
import { log } from "../context.js";
import { cpuFigures } from "../measure.js";
import { closedLoop } from "../node-load.js";
import { EVENT_APPENDS } from "../options.js";
import { round } from "../stats.js";
import { CpuWindow } from "../system.js";

/**
 * Event appends on PostgreSQL: 16 writers, each transaction a VA update plus one event, the way a
 * payment is recorded. The same transaction three ways, in one run:
 * - `event-append-unordered`: a plain insert numbered by bigserial, no ordering at all (the ceiling);
 * - `event-append`: the shipped append (sequence from the writing transaction's id, NOTIFY after
 *   the commit, coalesced as the hub sends it);
 * - `event-append-locked`: the earlier design for reference, one advisory lock and the NOTIFY
 *   inside the transaction (both serialise commits cluster-wide).
 */

export const EVENT_APPEND_ROWS = [
  ["event-append-unordered", "events"],
  ["event-append", "events"],
  ["event-append-locked", "events"],
] as const;

const EARLIER_APPEND_LOCK = 0x76615f65;

/** `?` placeholders (knex) as `$1…` (pg). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

function benchVa(i: number): VirtualAccount {
  const at = new Date();
  return {
    id: `va_bench_append_${i}`,
    tenantId: "bench",
    merchantReference: `order-${i}`,
    provider: "sandbox",
    providerAccount: "acct",
    providerReference: `ref-${i}`,
    providerVaId: undefined,
    bankCode: "BNI",
    vaNumber: String(8_800_000_000 + i),
    usage: "MULTI",
    amount: { type: "OPEN" },
    status: "ACTIVE",
    expiresAt: new Date(at.getTime() + 86_400_000),
    customer: { name: "Budi Santoso", email: "budi@example.co.id", phone: "+6281234567890" },
    description: "bench",
    paidAmount: 0n,
    paymentCount: 0,
    createdAt: at,
    updatedAt: at,
  };
}

export async function runEventAppends(bench: Bench): Promise<void> {
  if (!EVENT_APPEND_ROWS.some(([id, group]) => bench.selected(id, group))) return;
  const reason = await bench.postgres.unavailable();
  if (reason) {
    bench.skip(EVENT_APPEND_ROWS, reason);
    return;
  }
  const url = await bench.postgres.create();
  const database = await openDatabase({ url, sqlitePath: "" });
  const vas = Array.from({ length: EVENT_APPENDS.vas }, (_, i) => benchVa(i));
  let texts: { update: string; ordered: string; unordered: string };
  try {
    await new Store(database).transaction(async (tx) => {
      for (const va of vas) await tx.virtualAccounts.insert(va);
    });
    const metadata = database.orm.em.getMetadata();
    texts = {
      update: numbered(
        updateOf(vaTable, ["paidAmount", "paymentCount", "updatedAt"], ["id"], "version").resolve(metadata, "postgresql"),
      ),
      ordered: numbered(APPEND_EVENT_POSTGRESQL.resolve(metadata, "postgresql")),
      unordered: numbered(APPEND_EVENT_SQLITE.resolve(metadata, "postgresql")),
    };
  } finally {
    await database.close();
  }
  const locked = texts.unordered
    .replace(
      /values \(.*\) returning/,
      "select $1, $2, $3, $4, $5, $6::timestamptz, $7, $8 from (select pg_advisory_xact_lock($9)) as append_lock returning",
    )
    .concat(`, pg_notify($10, "sequence"::text)`);

  const clients = Array.from({ length: EVENT_APPENDS.writers }, () => new pg.Client({ connectionString: url }));
  const announcer = new pg.Client({ connectionString: url });
  await Promise.all([...clients, announcer].map((c) => c.connect()));
  let announcing: Promise<unknown> | undefined;
  let announceAgain = false;
  const announce = (): void => {
    if (announcing) {
      announceAgain = true;
      return;
    }
    announcing = announcer.query("select pg_notify($1, '')", [EVENT_CHANNEL]).finally(() => {
      announcing = undefined;
      if (announceAgain) {
        announceAgain = false;
        announce();
      }
    });
  };

  const variants = {
    "event-append-unordered": {
      what: "VA update + event insert numbered by bigserial, no ordering (ceiling)",
      columnsFirst: [] as unknown[],
      text: texts.unordered,
      extra: [] as unknown[],
      after: () => undefined,
    },
    "event-append": {
      what: "VA update + event append as shipped: xid-ordered sequence, NOTIFY after commit",
      columnsFirst: [0],
      text: texts.ordered,
      extra: [],
      after: announce,
    },
    "event-append-locked": {
      what: "reference: the earlier append, advisory lock + NOTIFY inside the transaction",
      columnsFirst: [],
      text: locked,
      extra: [EARLIER_APPEND_LOCK, EVENT_CHANNEL],
      after: () => undefined,
    },
  };
  try {
    for (const [id, group] of EVENT_APPEND_ROWS) {
      if (!bench.selected(id, group)) continue;
      const variant = variants[id];
      const window = new CpuWindow([process.pid], true);
      log(`${id}: ${EVENT_APPENDS.writers} writers, ${bench.options.durationS}s`);
      const result = await closedLoop({
        concurrency: EVENT_APPENDS.writers,
        durationS: bench.options.durationS,
        warmupS: bench.options.warmupS,
        onMeasure: (phase) => window.mark(phase),
        call: async (worker, sequence) => {
          const client = clients[worker] as pg.Client;
          const va = vas[(sequence * 7919) % vas.length] as VirtualAccount;
          const now = new Date();
          await client.query("begin");
          try {
            await client.query(texts.update, [sequence, sequence, now, va.id]);
            const snapshot = JSON.stringify({ ...va, paidAmount: String(sequence), updatedAt: now }, (_k, v) =>
              typeof v === "bigint" ? v.toString() : v,
            );
            await client.query(variant.text, [
              ...variant.columnsFirst,
              va.tenantId,
              va.id,
              va.merchantReference,
              "PAYMENT_RECEIVED",
              "CALLBACK",
              now.toISOString(),
              snapshot,
              null,
              ...variant.extra,
            ]);
            await client.query("commit");
          } catch (error) {
            await client.query("rollback");
            throw error;
          }
          variant.after();
        },
      });
      const cpu = cpuFigures(bench, window, result.completed);
      bench.add({
        id,
        group,
        what: variant.what,
        load: `${EVENT_APPENDS.writers} pg connections, 1 transaction each in flight, ${EVENT_APPENDS.vas} VAs`,
        rps: round(result.rps, 1),
        latency: result.latency,
        errors: result.errors,
        machineCores: cpu.machineCores,
        dbCpuUsPerRequest: cpu.dbCpuUsPerRequest,
        ...(result.firstError ? { note: `first error: ${result.firstError}` } : {}),
      });
    }
  } finally {
    await announcing?.catch(() => undefined);
    await Promise.all([...clients, announcer].map((c) => c.end().catch(() => undefined)));
  }
}
