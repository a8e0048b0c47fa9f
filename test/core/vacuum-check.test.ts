import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/open-database.js';
import { rowsOf } from '../../src/db/rows.js';
import { vacuumWarning } from '../../src/db/vacuum-check.js';
import { onPostgres, openTestDatabase } from '../helpers/test-database.js';

let handle: { database: Database; close(): Promise<void> };
beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => handle?.close());

describe('the start-up vacuum check', () => {
  it.skipIf(onPostgres())('is quiet on the embedded database, which the gateway vacuums itself', async () => {
    expect(await vacuumWarning(handle.database)).toBeUndefined();
  });

  it.skipIf(!onPostgres())('warns exactly when the PostgreSQL server runs without autovacuum', async () => {
    const [row] = rowsOf<{ autovacuum: string }>(await handle.database.db.execute(sql`SHOW autovacuum`));
    const warning = await vacuumWarning(handle.database);
    if (row!.autovacuum === 'off') expect(warning).toMatch(/autovacuum is off/);
    else expect(warning).toBeUndefined();
  });
});
