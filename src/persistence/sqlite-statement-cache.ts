/** How many distinct SQL texts one SQLite connection keeps compiled. */
const STATEMENT_CACHE_SIZE = 256;

interface PreparingConnection {
  prepare(sql: string): unknown;
}

/**
 * MikroORM's libsql dialect compiles every statement it runs (`connection.prepare(sql)`), which was
 * 7–8 % of an inquiry's and a callback's CPU. Our SQL texts are parameterised and few, so this
 * keeps the compiled statements of one connection, least recently used out first. Installed from
 * the pool's `afterCreate` on each raw connection, so the cache lives and dies with it. Safe because
 * the dialect only ever calls `all`/`run`/`get` on a statement, each of which rebinds and resets it.
 */
export function cachePreparedStatements(connection: PreparingConnection): void {
  const prepare = connection.prepare.bind(connection);
  const compiled = new Map<string, unknown>();
  connection.prepare = (sql: string) => {
    let statement = compiled.get(sql);
    if (statement !== undefined) {
      compiled.delete(sql);
    } else {
      statement = prepare(sql);
      if (compiled.size >= STATEMENT_CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
    }
    compiled.set(sql, statement);
    return statement;
  };
}
