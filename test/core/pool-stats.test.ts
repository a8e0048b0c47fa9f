import { setImmediate as afterMicrotasks } from 'node:timers/promises';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { poolStatsOf } from '../../src/db/pool-stats.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';

// postgres.js keeps its pool's counts to itself; patches/postgres* adds
// `sql.pool`, which the pool metrics read (docs/observability.md).

describe.skipIf(!onPostgres())('the Postgres pool’s counts', () => {
  it('show a transaction holding the only connection, a query waiting for it, and how long it waited', async () => {
    const database = await createTestDatabase();
    const client = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const stats = poolStatsOf(client);
      expect(stats).toBeDefined();
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered!: () => void;
      const inTransaction = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const transaction = client.begin(async (sql) => {
        await sql`select 1`;
        entered();
        await held;
      });
      await inTransaction;
      expect(stats!()).toMatchObject({ reserved: 1, queued: 0, waits: 0 });

      const waiting = client`select 2 as n`.execute();
      await afterMicrotasks(); // postgres.js hands a query to its pool a microtask after execute()
      expect(stats!()).toMatchObject({ reserved: 1, queued: 1 });

      release();
      await transaction;
      expect((await waiting)[0]).toEqual({ n: 2 });
      const after = stats!();
      expect(after).toMatchObject({ reserved: 0, queued: 0, waits: 1 });
      expect(after.waitSeconds).toBeGreaterThan(0);
      expect(after.idle + after.busy).toBe(1);
    } finally {
      await client.end();
      await database.drop();
    }
  });
});
