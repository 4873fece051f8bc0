import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventFilter, VaEvent } from "../../src/domain/event.js";
import type { VirtualAccount } from "../../src/domain/virtual-account.js";
import { EventHub } from "../../src/events/hub.js";
import { PostgresEventListener } from "../../src/events/postgres-listener.js";
import { followEvents } from "../../src/events/stream.js";
import { type Database, openDatabase } from "../../src/persistence/orm.js";
import { APPEND_EVENT_POSTGRESQL } from "../../src/persistence/sql.js";
import { Store, type StoreTransaction } from "../../src/persistence/store.js";
import { createPostgresDatabase, postgresUnavailableReason } from "../support/databases.js";

const postgresSkip = await postgresUnavailableReason();
if (postgresSkip) console.warn(`[skip] resume under concurrent writers: ${postgresSkip}`);

const TENANT = "tenant-resume";
const TRANSACTIONS = 240;
const WRITERS_PER_REPLICA = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Deterministic, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** A VA snapshot whose id names the event, so readers can tell every event apart. */
function snapshot(marker: string): VirtualAccount {
  const at = new Date("2026-12-04T00:00:00Z");
  return {
    id: marker,
    tenantId: TENANT,
    merchantReference: "resume",
    provider: "sandbox",
    providerAccount: "acct",
    providerReference: marker,
    providerVaId: undefined,
    bankCode: "BNI",
    vaNumber: "1",
    usage: "MULTI",
    amount: { type: "OPEN" },
    status: "ACTIVE",
    expiresAt: at,
    customer: { name: "Budi", email: "budi@example.com", phone: "0811" },
    description: "resume",
    paidAmount: 0n,
    paymentCount: 0,
    createdAt: at,
    updatedAt: at,
  };
}

/** Two replicas (a Store, a hub and a NOTIFY listener each) on one PostgreSQL database. */
describe.skipIf(postgresSkip !== undefined)("resuming from a cursor while two replicas append concurrently", () => {
  let postgres: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const databases: Database[] = [];
  const stores: Store[] = [];
  const hubs: EventHub[] = [];
  const listeners: PostgresEventListener[] = [];

  beforeAll(async () => {
    postgres = await createPostgresDatabase();
    for (let i = 0; i < 2; i++) {
      const database = await openDatabase({ url: postgres.url, sqlitePath: "" });
      const store = new Store(database);
      // A slow poll, so delivery rests on NOTIFY and the hub's own look-again when events are held back.
      const hub = new EventHub(store, { pollIntervalMs: 2_000, maxQueuedPerSubscriber: 10_000, onError: () => undefined });
      await hub.start();
      const listener = new PostgresEventListener(
        postgres.url,
        () => hub.wake(),
        () => undefined,
      );
      await listener.start();
      databases.push(database);
      stores.push(store);
      hubs.push(hub);
      listeners.push(listener);
    }
  }, 60_000);
  afterAll(async () => {
    for (const hub of hubs) hub.stop();
    await Promise.all(listeners.map((l) => l.stop()));
    await Promise.all(databases.map((d) => d.close()));
    await postgres?.drop();
  });

  it("an append takes no lock and queues no NOTIFY (which would serialise commits cluster-wide)", () => {
    const text = APPEND_EVENT_POSTGRESQL.resolve(databases[0]?.orm.em.getMetadata() as never, "postgresql");
    expect(text).not.toMatch(/advisory|notify/);
    expect(text).toContain("pg_current_xact_id()");
  });

  it("every reader sees every committed event exactly once, in one order, whatever commits late", async () => {
    const next = random(13);
    const committed = new Set<string>();
    let writing = true;
    /** Set once the writers are done: how many events the stream reader must end with. */
    let expected = Number.POSITIVE_INFINITY;
    let deadline = Number.POSITIVE_INFINITY;

    const append = (tx: StoreTransaction, marker: string) =>
      tx.events.append({
        tenantId: TENANT,
        type: "VIRTUAL_ACCOUNT_UPDATED",
        cause: "RPC",
        occurredAt: new Date(),
        virtualAccount: snapshot(marker),
        payment: undefined,
      });

    /**
     * One transaction: one or two events; some stay open after their first append (their xid and
     * sequence taken early) while others commit past them; some roll back.
     */
    async function transaction(store: Store, n: number): Promise<void> {
      const holdMs = next() < 0.2 ? 20 + Math.floor(next() * 250) : 0;
      const second = next() < 0.3;
      const rollBack = next() < 0.1;
      const markers = [`w${n}-0`, ...(second ? [`w${n}-1`] : [])];
      try {
        await store.transaction(async (tx) => {
          await append(tx, markers[0] as string);
          if (holdMs) await sleep(holdMs);
          if (second) await append(tx, markers[1] as string);
          if (rollBack) throw new Error("rolled back");
        });
        for (const marker of markers) committed.add(marker);
      } catch (error) {
        if (!rollBack) throw error;
      }
    }

    let issued = 0;
    const writers = Array.from({ length: 2 * WRITERS_PER_REPLICA }, async (_, w) => {
      const store = stores[w % 2] as Store;
      while (issued < TRANSACTIONS) await transaction(store, issued++);
    });
    // One transaction that takes its place in the log first and commits after most of the others.
    const straggler = (stores[1] as Store).transaction(async (tx) => {
      await append(tx, "straggler-0");
      await sleep(1_500);
      await append(tx, "straggler-1");
    });

    /** Reads pages of 7 straight from storage, on alternating replicas, each time from its last cursor. */
    async function storageReader(): Promise<VaEvent[]> {
      const seen: VaEvent[] = [];
      let cursor = 0n;
      for (let round = 0; ; round++) {
        const done = !writing;
        const page = await (stores[round % 2] as Store).events.read({ after: cursor }, 7);
        seen.push(...page);
        cursor = page.at(-1)?.sequence ?? cursor;
        if (page.length === 0) {
          if (done) return seen;
          await sleep(3);
        }
      }
    }

    /**
     * Follows the live stream, dropping it after a few events and resuming on the other replica, until
     * it has as many events as were committed (a skipped event keeps it waiting until the deadline).
     */
    async function streamReader(): Promise<VaEvent[]> {
      const seen: VaEvent[] = [];
      const filter: EventFilter = { tenantId: TENANT, kind: "ALL" };
      let cursor = 0n;
      for (let round = 0; seen.length < expected && Date.now() < deadline; round++) {
        const hub = hubs[round % 2] as EventHub;
        const store = stores[round % 2] as Store;
        const stop = new AbortController();
        const take = 1 + Math.floor(next() * 15);
        let taken = 0;
        // Heartbeats end a round that finds nothing new.
        for await (const item of followEvents({ store, hub, heartbeatMs: 50 }, filter, cursor, stop.signal)) {
          if (item.kind === "heartbeat") break;
          seen.push(item.event);
          cursor = item.event.sequence;
          if (++taken >= take) break;
        }
        stop.abort();
      }
      return seen;
    }

    const readers = [storageReader(), streamReader()];
    await Promise.all([...writers, straggler]);
    committed.add("straggler-0").add("straggler-1");
    writing = false;
    expected = committed.size;
    deadline = Date.now() + 30_000;
    const [fromStorage = [], fromStream = []] = await Promise.all(readers);

    const log = await (stores[0] as Store).events.read({ after: 0n }, 100_000);
    const order = log.map((e) => e.virtualAccount.id);
    expect(new Set(order)).toEqual(committed);
    expect(order).toHaveLength(committed.size);
    for (const seen of [fromStorage, fromStream]) {
      expect(seen.map((e) => e.virtualAccount.id)).toEqual(order);
      expect(seen.map((e) => e.sequence)).toEqual(log.map((e) => e.sequence));
    }
    // The straggler's events are read in its place, after events of transactions that committed first.
    expect(order.indexOf("straggler-1")).toBe(order.indexOf("straggler-0") + 1);
  }, 120_000);
});
