import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settleQuery, settlementRows } from '../../src/core/billing/settle.js';
import { LocalEventBus } from '../../src/core/events/event-bus.js';
import { createApiKey, createProject } from '../../src/core/projects/project-admin.js';
import type { Database } from '../../src/db/open-database.js';
import { okSettlement, reserveMany, settleAllOk } from '../helpers/churn.js';
import { openTestDatabase } from '../helpers/test-database.js';

let handle: { database: Database; close(): Promise<void> };
beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => handle?.close());

/** Every index the settlement's plan reads, custom (as it runs) or generic. */
async function indexesInPlan(rowsJson: string, mode: 'force_custom_plan' | 'force_generic_plan'): Promise<string[]> {
  const text = `EXPLAIN (FORMAT JSON) ${new PgDialect().sqlToQuery(settleQuery).sql}`;
  const raw = handle.database.raw;
  const plan: unknown =
    raw.kind === 'pglite'
      ? await raw.client.transaction(async (tx) => {
          await tx.query(`SET LOCAL plan_cache_mode = ${mode}`);
          return (await tx.query<Record<string, unknown>>(text, [rowsJson])).rows[0]!['QUERY PLAN'];
        })
      : await raw.client.begin(async (tx) => {
          await tx.unsafe(`SET LOCAL plan_cache_mode = ${mode}`);
          return (await tx.unsafe(text, [rowsJson]))[0]!['QUERY PLAN'];
        });
  const names: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (node && typeof node === 'object') {
      const n = node as Record<string, unknown>;
      if (typeof n['Index Name'] === 'string') names.push(n['Index Name']);
      Object.values(n).forEach(walk);
    }
  };
  walk(typeof plan === 'string' ? JSON.parse(plan) : plan);
  return names;
}

describe('the settlement statement', () => {
  it('never reads its rows through the reserved index, which keeps an entry for every settled row until vacuum', async () => {
    const { db } = handle.database;
    const bus = new LocalEventBus();
    const project = await createProject(db, { name: 'plan', initialBalance: '1', actor: 'test' });
    const { apiKey } = await createApiKey(db, bus, { projectId: project.id, mode: 'test' });
    // History: rows reserved and settled, each leaving an entry in usage_reserved_idx until vacuum.
    const history = await reserveMany(db, project.id, apiKey.id, 3000);
    for (let i = 0; i < history.length; i += 500) expect(await settleAllOk(db, history.slice(i, i + 500))).toBe(500);
    const open = await reserveMany(db, project.id, apiKey.id, 50);
    const rowsJson = settlementRows(open.map(okSettlement));

    // Small as this table is, the planner may scan it whole; on a big one it looks rows up by id.
    const usageIndexes = (names: string[]) => names.filter((n) => n.startsWith('usage_') && n !== 'usage_records_pkey');
    expect(usageIndexes(await indexesInPlan(rowsJson, 'force_custom_plan'))).toEqual([]);
    expect(usageIndexes(await indexesInPlan(rowsJson, 'force_generic_plan'))).toEqual([]);
  });
});
