import { sql } from 'drizzle-orm';
import type { Database } from './open-database.js';
import { rowsOf } from './rows.js';

/**
 * Why the database will bloat, or undefined when something vacuums it. Every
 * request updates its usage row once, so a PostgreSQL server without
 * autovacuum keeps a dead version of every row ever settled and never
 * freezes one against transaction-id wraparound. The embedded database is
 * vacuumed by the gateway itself (embedded-vacuum.ts).
 */
export async function vacuumWarning(database: Database): Promise<string | undefined> {
  if (database.raw.kind === 'pglite') return undefined;
  const [row] = rowsOf<{ autovacuum: string }>(await database.db.execute(sql`SHOW autovacuum`));
  if (row?.autovacuum !== 'off') return undefined;
  return 'autovacuum is off on this PostgreSQL server: usage_records keeps a dead row per request and nothing is frozen against transaction-id wraparound; turn it on or run VACUUM regularly';
}
