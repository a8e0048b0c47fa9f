import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { Metering, promptReserveTokens } from '../../src/core/billing/metering.js';
import { insertReservations, type Reservation } from '../../src/core/billing/reserve.js';
import type { CatalogueModel } from '../../src/core/catalogue/catalogue.js';
import { effectivePrices, unstorablePrices } from '../../src/core/catalogue/model-prices.js';
import { upsertModel } from '../../src/core/catalogue/upsert-model.js';
import { newId } from '../../src/contract/ids.js';
import type { AuthenticatedKey } from '../../src/core/keys/key-store.js';
import type { Logger } from '../../src/core/logger.js';
import { costOf, formatMoney, type Prices, priceText, promptParts, type TokenCounts, worstCaseCost } from '../../src/core/money.js';
import { detachedClient, type RequestContext } from '../../src/core/request-context.js';
import { usageRecords } from '../../src/db/schema.js';
import { plain, useTestDatabase } from '../helpers/use-test-database.js';

// Claude Sonnet 4.5's list prices per 1M tokens: input 3, cache read 0.3,
// cache write 3.75 (5-minute TTL) and 6 (1-hour), output 15. A token costs a
// millionth of those: 0.000003, 0.0000003, 0.00000375, 0.000006, 0.000015.
const store = useTestDatabase();

const sonnet: Prices = effectivePrices({ kind: 'chat', inputPrice: '3', outputPrice: '15', cachedInputPrice: '0.3' });

describe('the cost of a request with prompt caching', () => {
  const table: Array<{ what: string; tokens: TokenCounts; cost: string; uncached: number }> = [
    { what: 'no caching', tokens: { promptTokens: 1000, completionTokens: 100 }, uncached: 1000, cost: '0.0045' }, // 0.003 + 0.0015
    {
      what: 'reads, 5-minute and 1-hour writes, each at its own price',
      tokens: { promptTokens: 10_000, completionTokens: 200, cachedTokens: 6000, cacheWriteTokens: 2000, cacheWrite1hTokens: 1000 },
      uncached: 1000,
      // 1000 × 0.000003 + 6000 × 0.0000003 + 2000 × 0.00000375 + 1000 × 0.000006 + 200 × 0.000015
      // = 0.003 + 0.0018 + 0.0075 + 0.006 + 0.003
      cost: '0.0213',
    },
    { what: 'a whole prompt read from the cache', tokens: { promptTokens: 4096, completionTokens: 0, cachedTokens: 4096 }, uncached: 0, cost: '0.0012288' },
    { what: 'a whole prompt written with the 1-hour TTL', tokens: { promptTokens: 4096, completionTokens: 10, cacheWrite1hTokens: 4096 }, uncached: 0, cost: '0.024726' }, // 0.024576 + 0.00015
    { what: 'a whole prompt written with the 5-minute TTL', tokens: { promptTokens: 3, completionTokens: 0, cacheWriteTokens: 3 }, uncached: 0, cost: '0.00001125' },
    {
      what: 'an upstream reporting more reads and writes than prompt tokens: the prompt is their sum, nothing negative',
      tokens: { promptTokens: 100, completionTokens: 0, cachedTokens: 90, cacheWriteTokens: 30 },
      uncached: 0,
      cost: '0.0001395', // 90 × 0.0000003 + 30 × 0.00000375 = 0.000027 + 0.0001125
    },
    { what: 'reads beyond the prompt alone', tokens: { promptTokens: 0, completionTokens: 1, cachedTokens: 10 }, uncached: 0, cost: '0.000018' }, // 0.000003 + 0.000015
    { what: 'negative counts count as none', tokens: { promptTokens: 10, completionTokens: -5, cachedTokens: -3, cacheWriteTokens: -1 }, uncached: 10, cost: '0.00003' },
  ];

  for (const row of table) {
    it(row.what, () => {
      expect(formatMoney(costOf(row.tokens, sonnet))).toBe(row.cost);
      expect(promptParts(row.tokens).uncached).toBe(BigInt(row.uncached));
      expect(costOf(row.tokens, sonnet)).toBeGreaterThanOrEqual(0n);
    });
  }

  it('never charges a token twice: each reported token is priced once', () => {
    const t = { promptTokens: 500, completionTokens: 0, cachedTokens: 300, cacheWriteTokens: 300, cacheWrite1hTokens: 300 };
    const p = promptParts(t);
    expect(p).toEqual({ uncached: 0n, cached: 300n, write: 300n, write1h: 300n });
  });
});

describe('cache-write prices', () => {
  it('default to 1.25 × and 2 × input, exactly', () => {
    expect(priceText(effectivePrices({ kind: 'chat', inputPrice: '3', outputPrice: '15' }))).toEqual({
      input: '3',
      output: '15',
      cachedInput: '3',
      cacheWrite: '3.75',
      cacheWrite1h: '6',
    });
    // Six decimals in, six out: 0.000004 × 1.25 = 0.000005.
    expect(priceText(effectivePrices({ kind: 'chat', inputPrice: '0.000004', outputPrice: '0' })).cacheWrite).toBe('0.000005');
  });

  it('are refused, not rounded, when 1.25 × input needs more than 6 decimals and nothing is set', async () => {
    const odd = { id: 'odd-price', kind: 'chat' as const, ownedBy: 'x', inputPrice: '0.123457', outputPrice: '1', routes: [] };
    expect(unstorablePrices(odd)).toMatch(/0\.15432125 has more than 6 decimals; set the cache-write price explicitly/);
    await expect(upsertModel(store.db, odd)).rejects.toThrow(/model odd-price: 1\.25 × input price 0\.123457 = 0\.15432125/);
    // Set explicitly, the same input price is fine; 2 × never needs more decimals.
    await upsertModel(store.db, { ...odd, cacheWritePrice: '0.154322' });
    expect(priceText(effectivePrices({ ...odd, cacheWritePrice: '0.154322' }))).toMatchObject({ cacheWrite: '0.154322', cacheWrite1h: '0.246914' });
  });

  it('of a row stored before that rule are the default rounded up to the next millionth', () => {
    // 0.15432125 → 0.154322: less than one pico-unit a token more, and the usage row records it.
    expect(priceText(effectivePrices({ kind: 'chat', inputPrice: '0.123457', outputPrice: '1' })).cacheWrite).toBe('0.154322');
  });

  it('keep what is set, zero included', () => {
    expect(priceText(effectivePrices({ kind: 'chat', inputPrice: '1', outputPrice: '2', cacheWritePrice: '0', cacheWrite1hPrice: '1.5' }))).toMatchObject({ cacheWrite: '0', cacheWrite1h: '1.5' });
  });

  it('of an embedding model (no prompt cache) are its input price', () => {
    expect(priceText(effectivePrices({ kind: 'embedding', inputPrice: '0.123457', outputPrice: '0' }))).toMatchObject({ cacheWrite: '0.123457', cacheWrite1h: '0.123457' });
  });
});

describe('the reservation', () => {
  it('holds every prompt token at the dearest prompt price', () => {
    // 100 × 0.000006 (the 1-hour write) + 10 × 0.000015.
    expect(formatMoney(worstCaseCost(100, 10, sonnet))).toBe('0.00075');
    // A model whose cached price is (wrongly) above input is still covered.
    expect(worstCaseCost(1, 0, { input: 1n, output: 0n, cachedInput: 7n, cacheWrite: 2n, cacheWrite1h: 3n })).toBe(7n);
  });

  const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

  it('records every price in force on reserved rows written together (the batched insert)', async () => {
    const { projectId, apiKeyId } = await store.customer({ project: 'cache-batch' });
    const reservation = (requestId: string): Reservation => ({
      requestId, projectId, apiKeyId, endpoint: 'messages', modelId: 'cache-sonnet', cost: 1n, promptTokens: 1,
      prices: sonnet, priceText: priceText(sonnet), stream: false, test: false, replicaId: 'rep_batch',
    });
    const ids = [newId('req'), newId('req')];
    await insertReservations(store.db, ids.map((id) => ({ reservation: reservation(id), leaseId: null })));
    for (const id of ids) {
      const [row] = await store.db.select().from(usageRecords).where(eq(usageRecords.id, id));
      expect([plain(row!.inputPrice), plain(row!.cachedInputPrice), plain(row!.cacheWritePrice), plain(row!.cacheWrite1hPrice), plain(row!.outputPrice)]).toEqual(['3', '0.3', '3.75', '6', '15']);
    }
  });

  it('covers a prompt written whole with the 1-hour TTL: charged exactly, not capped', async () => {
    const model = { id: 'cache-sonnet', kind: 'chat', prices: sonnet, priceText: priceText(sonnet), maxOutputTokens: 100 } as CatalogueModel;
    const { projectId, apiKey } = await store.customer({ project: 'cache-writes', balance: '10' });
    const key = { id: apiKey.id, projectId, mode: apiKey.mode, hasSpendLimit: false } as AuthenticatedKey;
    const ctx: RequestContext = { requestId: newId('req'), key, client: detachedClient };
    const metering = new Metering(store.db, store.bus, 'rep_cache', logger);
    // Our tokenizer counted 1000 prompt tokens, and the upstream says 1250 were all written to the 1-hour cache.
    const meter = await metering.open(ctx, model, 'chat', { promptTokens: 1000, maxCompletionTokens: 100 }, false);
    // promptReserveTokens(1000) = 1266 tokens × 0.000006 + 100 × 0.000015 = 0.007596 + 0.0015.
    expect(promptReserveTokens(1000)).toBe(1266);
    expect(formatMoney(meter.reservedCost)).toBe('0.009096');
    meter.close({
      status: 'ok',
      httpStatus: 200,
      usage: { promptTokens: 1250, completionTokens: 100, cachedTokens: 0, reasoningTokens: 0, cacheWriteTokens: 0, cacheWrite1hTokens: 1250 },
    });
    await meter.recorded;
    await new Promise((resolve) => setImmediate(resolve));
    await metering.idle();
    const [row] = await store.db.select().from(usageRecords).where(eq(usageRecords.id, ctx.requestId));
    // 1250 × 0.000006 + 100 × 0.000015 = 0.0075 + 0.0015: below the reservation, so charged whole.
    // At the input price alone the reservation would have been 0.005298, and the charge capped there.
    expect(plain(row!.cost)).toBe('0.009');
    expect(row).toMatchObject({ promptTokens: 1250, cachedTokens: 0, cacheWriteTokens: 0, cacheWrite1hTokens: 1250 });
    expect([plain(row!.inputPrice), plain(row!.cachedInputPrice), plain(row!.cacheWritePrice), plain(row!.cacheWrite1hPrice), plain(row!.outputPrice)]).toEqual([
      '3',
      '0.3',
      '3.75',
      '6',
      '15',
    ]);
    await metering.escrow.releaseAll();
  });
});
