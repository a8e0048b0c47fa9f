import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { insertReservations, type Reservation } from '../../src/core/billing/reserve.js';
import { settleMany } from '../../src/core/billing/settle.js';
import { LocalEventBus } from '../../src/core/events/event-bus.js';
import { newId } from '../../src/core/ids.js';
import { createApiKey, createProject } from '../../src/core/projects/project-admin.js';
import { type Db, openDatabase } from '../../src/db/open-database.js';
import { rowsOf } from '../../src/db/rows.js';
import { onPostgres } from '../helpers/test-database.js';

const migrationsFolder = new URL('../../drizzle', import.meta.url).pathname;

/** Reserves and settles `n` requests: each leaves one dead version of its usage row. */
async function churn(db: Db, projectId: string, apiKeyId: string, n: number): Promise<void> {
  const batch = Array.from({ length: n }, (): { reservation: Reservation; leaseId: null } => ({
    reservation: {
      requestId: newId('req'), projectId, apiKeyId, endpoint: 'chat', modelId: 'm', cost: 0n, promptTokens: 1,
      prices: { input: 0n, output: 0n, cachedInput: 0n }, priceText: { input: '0', output: '0', cachedInput: '0' },
      stream: false, test: true, replicaId: 'rep_vacuum',
    },
    leaseId: null,
  }));
  await insertReservations(db, batch);
  const settled = await settleMany(db, batch.map(({ reservation: r }) => ({
    requestId: r.requestId, status: 'ok' as const, httpStatus: 200, promptTokens: 1, completionTokens: 1, cachedTokens: 0, reasoningTokens: 0, cost: 0n, attempts: 1,
  })));
  expect(settled).toHaveLength(n);
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
