import Database from "libsql";
import { describe, expect, it } from "vitest";
import { cachePreparedStatements } from "../../src/persistence/sqlite-statement-cache.js";

describe("SQLite statement cache", () => {
  it("hands back the compiled statement for a repeated SQL text, and it still runs with new values", () => {
    const db = new Database(":memory:");
    cachePreparedStatements(db);
    db.exec("create table t (a integer primary key, b text not null)");
    const insert = db.prepare("insert into t (a, b) values (?, ?)");
    expect(db.prepare("insert into t (a, b) values (?, ?)")).toBe(insert);
    insert.run(1, "one");
    expect(() => db.prepare("insert into t (a, b) values (?, ?)").run(1, "again")).toThrow(/UNIQUE|PRIMARY/);
    db.prepare("insert into t (a, b) values (?, ?)").run(2, "two");
    expect(
      db
        .prepare("select b from t where a >= ? order by a")
        .all(1)
        .map((r) => (r as { b: string }).b),
    ).toEqual(["one", "two"]);
    expect(
      db
        .prepare("select b from t where a >= ? order by a")
        .all(2)
        .map((r) => (r as { b: string }).b),
    ).toEqual(["two"]);
    db.close();
  });

  it("keeps at most 256 texts, dropping the least recently used", () => {
    const db = new Database(":memory:");
    cachePreparedStatements(db);
    const first = db.prepare("select 0");
    const kept = db.prepare("select 1");
    for (let i = 2; i < 256; i++) db.prepare(`select ${i}`);
    expect(db.prepare("select 0")).toBe(first);
    db.prepare("select 256"); // full: evicts the least recently used, "select 1"
    expect(db.prepare("select 0")).toBe(first);
    expect(db.prepare("select 1")).not.toBe(kept);
    expect((db.prepare("select 1").get() as Record<string, unknown>)["1"]).toBe(1);
    db.close();
  });
});
