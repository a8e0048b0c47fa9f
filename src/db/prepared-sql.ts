import type { SQL } from 'drizzle-orm';
import type { PgDialect } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './open-database.js';
import { rowsOf } from './rows.js';

/**
 * A raw SQL statement the driver prepares once per connection and then only
 * binds: drizzle's `db.execute` sends raw SQL unnamed, so Postgres parses and
 * plans it on every call (for the settle CTE that was most of its cost).
 * Values come in through `sql.placeholder(...)`. Drizzle has no public door
 * for this, so its session is reached here, in one place.
 */
export function prepareSql<Row>(db: DbOrTx, name: string, query: SQL): (values: Record<string, unknown>) => Promise<Row[]> {
  const dialect = (db as unknown as { dialect: PgDialect }).dialect;
  const prepared = db._.session.prepareQuery(dialect.sqlToQuery(query), undefined, name, false);
  return async (values) => rowsOf<Row>(await prepared.execute(values));
}
