import type { Bench } from "../context.js";
import { sqliteEnv, startServer, stopServer } from "../servers.js";
import { callbacksRow } from "./callbacks.js";
import { createRow } from "./create.js";
import { inquiryRows } from "./inquiry.js";

/** Which gateway processes host which service rows (a process is reused where state does not skew the next row). */

/** The SQLite gateway rows: inquiry and callbacks on one process, create on a fresh one. */
export async function runSqliteService(bench: Bench) {
  const { options } = bench;
  const protocols = (["grpc", "connect"] as const).filter((p) => bench.selected(`inquiry-${p}`, "inquiry"));
  const wantCallbacks = bench.selected("callbacks-sqlite", "callbacks");
  if (protocols.length > 0 || wantCallbacks) {
    const server = await startServer(options, "gateway-sqlite", "gateway", sqliteEnv(options, "gateway-sqlite"));
    try {
      if (protocols.length > 0) await inquiryRows(bench, server, [...protocols]);
      if (wantCallbacks)
        await callbacksRow(bench, "callbacks-sqlite", "signed sandbox callbacks ingested, SQLite", server, false);
    } finally {
      await stopServer(server);
    }
  }
  if (bench.selected("create-sqlite", "create")) {
    // A fresh process: creates grow the simulator's and the database's state.
    const server = await startServer(options, "gateway-sqlite-create", "gateway", sqliteEnv(options, "gateway-sqlite-create"));
    try {
      await createRow(
        bench,
        "create-sqlite",
        "create",
        "CreateVirtualAccount, sandbox provider (HTTP to in-process simulator), SQLite",
        [server],
        false,
      );
    } finally {
      await stopServer(server);
    }
  }
}

/** The PostgreSQL gateway rows: callbacks, create on one replica, then on two sharing the database. */
export async function runPostgresService(bench: Bench) {
  const { options } = bench;
  const wanted = {
    callbacks: bench.selected("callbacks-postgres", "callbacks"),
    create: bench.selected("create-postgres", "create") || bench.selected("create-postgres", "scaleout"),
    scaleout: bench.selected("create-postgres-2x", "scaleout"),
  };
  if (!wanted.callbacks && !wanted.create && !wanted.scaleout) return;
  const reason = await bench.postgres.unavailable();
  if (reason) {
    bench.skip(
      [
        ["callbacks-postgres", "callbacks"],
        ["create-postgres", "create"],
        ["create-postgres-2x", "scaleout"],
      ],
      reason,
    );
    return;
  }
  const databaseUrl = await bench.postgres.create();
  if (wanted.callbacks) {
    const server = await startServer(options, "gateway-pg-callbacks", "gateway", { DATABASE_URL: databaseUrl });
    try {
      await callbacksRow(bench, "callbacks-postgres", "signed sandbox callbacks ingested, PostgreSQL", server, true);
    } finally {
      await stopServer(server);
    }
  }
  if (wanted.create || wanted.scaleout) {
    const one = await startServer(options, "gateway-pg-1", "gateway", { DATABASE_URL: databaseUrl });
    try {
      await createRow(
        bench,
        "create-postgres",
        "create",
        "CreateVirtualAccount, sandbox provider, PostgreSQL, 1 replica",
        [one],
        true,
      );
    } finally {
      await stopServer(one);
    }
  }
  if (wanted.scaleout) {
    // Started one after the other: each applies migrations on start.
    const a = await startServer(options, "gateway-pg-2a", "gateway", { DATABASE_URL: databaseUrl });
    const b = await startServer(options, "gateway-pg-2b", "gateway", { DATABASE_URL: databaseUrl }).catch(async (e: unknown) => {
      await stopServer(a);
      throw e;
    });
    try {
      await createRow(
        bench,
        "create-postgres-2x",
        "scaleout",
        "CreateVirtualAccount, PostgreSQL, 2 replicas (same database)",
        [a, b],
        true,
      );
    } finally {
      await Promise.all([stopServer(a), stopServer(b)]);
    }
  }
}
