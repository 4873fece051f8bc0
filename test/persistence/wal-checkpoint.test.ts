import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/domain/ids.js";
import type { VirtualAccount } from "../../src/domain/virtual-account.js";
import { openDatabase } from "../../src/persistence/orm.js";
import { Store } from "../../src/persistence/store.js";
import { eventually } from "../support/fixtures.js";

function virtualAccount(n: number): VirtualAccount {
  const now = new Date();
  return {
    id: newId("va"),
    tenantId: "t",
    merchantReference: `wal-${n}`,
    provider: "sandbox",
    providerAccount: "M",
    providerReference: `p-${n}`,
    providerVaId: undefined,
    bankCode: "BNI",
    vaNumber: `8808${String(n).padStart(8, "0")}`,
    usage: "SINGLE",
    amount: { type: "FIXED", amount: 25_000n },
    status: "ACTIVE",
    expiresAt: new Date(now.getTime() + 3_600_000),
    customer: { name: "Budi", email: "", phone: "" },
    description: "x".repeat(200),
    paidAmount: 0n,
    paymentCount: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * The service's SQLite connections never checkpoint on commit (that stalled the event loop); the
 * checkpoint thread must fold the write-ahead log back into the database file instead.
 */
describe("SQLite write-ahead log", () => {
  it("is checkpointed into the database file by the background thread", async () => {
    const folder = mkdtempSync(join(tmpdir(), "va-wal-"));
    const path = join(folder, "db.sqlite");
    const database = await openDatabase({ url: undefined, sqlitePath: path });
    try {
      const store = new Store(database);
      const sizeBefore = statSync(path).size;
      for (let i = 0; i < 200; i++) {
        await store.transaction(async (tx) => {
          const va = virtualAccount(i);
          await tx.virtualAccounts.insert(va);
          await tx.events.append({
            tenantId: va.tenantId,
            type: "VIRTUAL_ACCOUNT_CREATED",
            cause: "RPC",
            occurredAt: va.createdAt,
            virtualAccount: va,
            payment: undefined,
          });
        });
      }
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
      const grown = await eventually(async () => (statSync(path).size > sizeBefore + 100_000 ? statSync(path).size : undefined));
      expect(grown).toBeGreaterThan(sizeBefore);
      expect(await store.events.lastSequence()).toBe(200n);
    } finally {
      await database.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
