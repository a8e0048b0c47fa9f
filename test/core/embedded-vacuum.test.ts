import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { LocalEventBus } from '../../src/core/events/event-bus.js';
import { createApiKey, createProject } from '../../src/core/projects/project-admin.js';
import { type Db, openDatabase } from '../../src/db/open-database.js';
import { rowsOf } from '../../src/db/rows.js';
import { reserveMany, settleAllOk } from '../helpers/churn.js';
import { onPostgres } from '../helpers/test-database.js';

const migrationsFolder = new URL('../../drizzle', import.meta.url).pathname;

/** Reserves and settles `n` requests: each leaves one dead version of its usage row. */
async function churn(db: Db, projectId: string, apiKeyId: string, n: number): Promise<void> {
  expect(await settleAllOk(db, await reserveMany(db, projectId, apiKeyId, n))).toBe(n);
}

describe.skipIf(onPostgres())('the embedded database', () => {
  it('is vacuumed on its timer, so settled requests leave no dead rows behind', async () => {
    const passes: Array<unknown> = [];
    let wake: (() => void) | undefined;
    const database = await openDatabase({
      dataDir: 'memory://',
      migrationsFolder,
      vacuumEveryMs: 25,
      onVacuum: (err) => {
        passes.push(err);
        wake?.();
      },
    });
    /** Resolves after a pass that started after this call (the one under way may have begun before). */
    const nextFullPass = async () => {
      const target = passes.length + 2;
      while (passes.length < target) await new Promise<void>((resolve) => (wake = resolve));
    };
    try {
      const { db } = database;
      const project = await createProject(db, { name: 'vacuum', initialBalance: '1', actor: 'test' });
      const { apiKey } = await createApiKey(db, new LocalEventBus(), { projectId: project.id, mode: 'test' });
      const heapBytes = async () =>
        Number(rowsOf<{ n: string }>(await db.execute(sql`select pg_relation_size('usage_records')::text as n`))[0]!.n);

      await nextFullPass();
      const start = await heapBytes();
      await churn(db, project.id, apiKey.id, 2000);
      const afterFirst = await heapBytes();
      await nextFullPass();
      // The second 2000 rows reuse the space of the first 2000's dead versions.
      await churn(db, project.id, apiKey.id, 2000);
      const afterSecond = await heapBytes();
      expect(afterSecond - afterFirst).toBeLessThan(0.75 * (afterFirst - start));
      expect(passes.every((err) => err === undefined)).toBe(true);
      const [stats] = rowsOf<{ vacuum_count: string }>(await db.execute(sql`select vacuum_count::text from pg_stat_user_tables where relname = 'usage_records'`));
      expect(Number(stats!.vacuum_count)).toBeGreaterThanOrEqual(2);
    } finally {
      await database.close();
    }
  });
});
