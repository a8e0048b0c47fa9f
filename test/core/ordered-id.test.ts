import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newOrderedId } from '../../src/contract/ids.js';
import type { Database } from '../../src/db/open-database.js';
import { rowsOf } from '../../src/db/rows.js';
import { openTestDatabase } from '../helpers/test-database.js';

let handle: { database: Database; close(): Promise<void> };
beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => handle?.close());

describe('time-ordered ids (requests, ledger entries)', () => {
  it('are req_, the millisecond in hex, and 13 random base62 characters, unique within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => newOrderedId('req', 1_764_763_200_000));
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^req_[0-9a-f]{11}[0-9A-Za-z]{13}$/);
    expect(ids[0]!.slice(4, 15)).toBe((1_764_763_200_000).toString(16).padStart(11, '0'));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sort in the order they were made, in JavaScript and under every collation the database offers for them', async () => {
    // Years apart and a millisecond apart: the usage table's primary key then grows at its right edge.
    const times = [1_764_763_200_000, 1_764_763_200_001, 1_764_763_200_255, 1_764_763_200_256, 1_900_000_000_000, 4_102_444_800_000];
    const made = times.map((t) => newOrderedId('req', t));
    expect([...made].sort()).toEqual(made);

    const { db } = handle.database;
    const list = sql.join(made.map((id, i) => sql`(${id}, ${i})`), sql`, `);
    const collations = rowsOf<{ collname: string }>(
      await db.execute(sql`SELECT collname FROM pg_collation WHERE collname IN ('default', 'C', 'en_US.utf8', 'en-x-icu', 'und-x-icu')`),
    ).map((r) => r.collname);
    expect(collations).toContain('default');
    for (const collation of collations) {
      const rows = rowsOf<{ i: number }>(await db.execute(sql`SELECT i FROM (VALUES ${list}) AS v(id, i) ORDER BY id COLLATE ${sql.identifier(collation)}`));
      expect(rows.map((r) => Number(r.i)), collation).toEqual(times.map((_, i) => i));
    }
  });
});
