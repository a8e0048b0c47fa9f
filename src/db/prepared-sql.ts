import type { SQL } from 'drizzle-orm';
import type { PgDialect } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './open-database.js';
import { rowsOf } from './rows.js';

type Run<Row> = (values: Record<string, unknown>) => Promise<Row[]>;

/**
 * A raw SQL statement the driver prepares once per connection and then only
 * binds: drizzle's `db.execute` sends raw SQL unnamed, so Postgres parses and
 * plans it on every call (for the settle CTE that was most of its cost).
 * Values come in through `sql.placeholder(...)`; the statement is built once
 * per database handle on first use. Drizzle has no public door for this, so
 * its session is reached here, in one place.
 */
export function preparedSql<Row>(name: string, query: SQL): (db: DbOrTx, values: Record<string, unknown>) => Promise<Row[]> {
  const byDb = new WeakMap<object, Run<Row>>();
  return (db, values) => {
    let run = byDb.get(db);
    if (!run) {
      const dialect = (db as unknown as { dialect: PgDialect }).dialect;
      const prepared = db._.session.prepareQuery(dialect.sqlToQuery(query), undefined, name, false);
      byDb.set(db, (run = async (v) => rowsOf<Row>(await prepared.execute(v))));
    }
    return run(values);
  };
}
