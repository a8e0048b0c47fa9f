import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { keyBalance } from '../../src/core/billing/key-balance.js';
import { GatewayError } from '../../src/core/errors.js';
import { apiKeys, projects } from '../../src/db/schema.js';
import { useTestDatabase } from '../helpers/use-test-database.js';

const store = useTestDatabase();

async function key(options: { spendLimit?: string; period?: 'total' | 'monthly'; expiresAt?: Date } = {}) {
  const { projectId, apiKey } = await store.customer({
    project: 'kb',
    balance: '12.5',
    spendLimit: options.spendLimit,
    spendLimitPeriod: options.period,
    expiresAt: options.expiresAt,
  });
  await store.db.update(projects).set({ reserved: '0.25' }).where(eq(projects.id, projectId));
  await store.db.update(apiKeys).set({ periodSpent: '1.2', reserved: '0.3', spentTotal: '5.5' }).where(eq(apiKeys.id, apiKey.id));
  return { keyId: apiKey.id, projectId, prefix: apiKey.prefix };
}

const firstOfThisMonth = () => new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1));

describe('a key’s balance', () => {
  it('shows the project’s balance, reserve and what is available, and the key’s spend against its limit', async () => {
    const k = await key({ spendLimit: '3', expiresAt: new Date('2100-01-02T03:04:05.000Z') });
    expect(await keyBalance(store.db, k.keyId, k.keyId)).toEqual({
      object: 'balance',
      key_id: k.keyId,
      project_id: k.projectId,
      currency: 'USD',
      balance: '12.5',
      reserved: '0.25',
      available: '12.25',
      key: {
        id: k.keyId,
        prefix: k.prefix,
        mode: 'live',
        spent: '1.2',
        spent_total: '5.5',
        spend_limit: '3',
        spend_limit_period: 'total',
        // 3 − 1.2 spent − 0.3 held by open requests.
        remaining_limit: '1.5',
        expires_at: '2100-01-02T03:04:05.000Z',
        revoked: false,
      },
    });
  });

  it('has no limit to show for a key without one', async () => {
    const k = await key();
    expect((await keyBalance(store.db, k.keyId, undefined)).key).toMatchObject({ spend_limit: null, remaining_limit: null, expires_at: null, spent: '1.2' });
  });

  it('shows a revoked key as revoked', async () => {
    const k = await key();
    await store.db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, k.keyId));
    expect((await keyBalance(store.db, k.keyId, undefined)).key.revoked).toBe(true);
  });

  it('starts a monthly limit afresh in a new month, before any request settles', async () => {
    const k = await key({ spendLimit: '3', period: 'monthly' });
    await store.db.update(apiKeys).set({ periodStart: new Date(firstOfThisMonth().getTime() - 1) }).where(eq(apiKeys.id, k.keyId));
    expect((await keyBalance(store.db, k.keyId, k.keyId)).key).toMatchObject({ spend_limit_period: 'monthly', spent: '0', remaining_limit: '2.7', spent_total: '5.5' });
  });

  it('keeps this month’s spend from the first instant of the month', async () => {
    const k = await key({ spendLimit: '3', period: 'monthly' });
    await store.db.update(apiKeys).set({ periodStart: firstOfThisMonth() }).where(eq(apiKeys.id, k.keyId));
    expect((await keyBalance(store.db, k.keyId, k.keyId)).key).toMatchObject({ spent: '1.2', remaining_limit: '1.5' });
  });

  it('never starts a total limit afresh', async () => {
    const k = await key({ spendLimit: '3', period: 'total' });
    await store.db.update(apiKeys).set({ periodStart: new Date('2000-01-01T00:00:00Z') }).where(eq(apiKeys.id, k.keyId));
    expect((await keyBalance(store.db, k.keyId, k.keyId)).key).toMatchObject({ spent: '1.2', remaining_limit: '1.5' });
  });

  it('answers another key, or an unknown id, with the same 404', async () => {
    const mine = await key();
    const theirs = await key();
    for (const [id, as] of [
      [theirs.keyId, mine.keyId],
      ['key_unknown', mine.keyId],
      ['key_unknown', undefined],
    ] as const) {
      const err = await keyBalance(store.db, id, as).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ status: 404, message: `No API key with id '${id}'.` });
    }
  });
});
