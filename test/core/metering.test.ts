import { eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { type Meter, Metering, promptReserveTokens } from '../../src/core/billing/metering.js';
import type { CatalogueModel } from '../../src/core/catalogue/catalogue.js';
import { GatewayError } from '../../src/core/errors.js';
import type { BalanceEvent, UsageEvent } from '../../src/core/events/event-bus.js';
import { newId } from '../../src/contract/ids.js';
import type { AuthenticatedKey } from '../../src/core/keys/key-store.js';
import type { Logger } from '../../src/core/logger.js';
import { detachedClient, type RequestContext } from '../../src/core/request-context.js';
import { leases, usageRecords } from '../../src/db/schema.js';
import { plain, useTestDatabase } from '../helpers/use-test-database.js';

// Prices: 1 per 1M input tokens (0.000001 a token), 2 per 1M output
// (0.000002), 0.5 per 1M cached input (0.0000005). Every expected amount
// below is worked out by hand from these.
const model = {
  id: 'metered-model',
  prices: { input: 1_000_000n, output: 2_000_000n, cachedInput: 500_000n, cacheWrite: 1_000_000n, cacheWrite1h: 1_000_000n },
  priceText: { input: '1', output: '2', cachedInput: '0.5', cacheWrite: '1', cacheWrite1h: '1' },
  maxOutputTokens: 100,
} as CatalogueModel;

const store = useTestDatabase();
const { bus, projectRow, keyRow } = store;
const usageEvents: UsageEvent[] = [];
const balanceEvents: BalanceEvent[] = [];
bus.subscribe('usage', (e) => usageEvents.push(e));
bus.subscribe('balance', (e) => balanceEvents.push(e));

const recordingLogger = () => {
  const lines: Array<{ level: string; obj: object; msg: string | undefined }> = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
};

async function customer(options: { balance?: string; mode?: 'live' | 'test'; spendLimit?: string } = {}) {
  const { projectId, apiKey } = await store.customer({ project: 'metering', ...options });
  const key = { id: apiKey.id, projectId, mode: apiKey.mode, hasSpendLimit: options.spendLimit !== undefined } as AuthenticatedKey;
  const ctx = (): RequestContext => ({ requestId: newId('req'), key, client: detachedClient });
  return { projectId, keyId: apiKey.id, key, ctx };
}

const row = async (id: string) => (await store.db.select().from(usageRecords).where(eq(usageRecords.id, id)))[0]!;

/**
 * A closed meter queues its settlement once its row's write has been heard
 * back from, and idle() waits for what is queued.
 */
async function written(metering: Metering, ...closed: Meter[]): Promise<void> {
  await Promise.allSettled(closed.map((m) => m.recorded));
  await new Promise((resolve) => setImmediate(resolve));
  await metering.idle();
}
const estimate = { promptTokens: 10, maxCompletionTokens: 100 };
const usage = { promptTokens: 10, completionTokens: 5, cachedTokens: 4, reasoningTokens: 1 };
const route = { modelId: 'metered-model', provider: 'openai', upstreamModel: 'gpt-up', upstreamKeyId: 'upk_1', attempts: 2 };

describe('the prompt reservation margin', () => {
  it('is a quarter more than counted, rounded up, plus 16 tokens', () => {
    expect(promptReserveTokens(0)).toBe(16);
    expect(promptReserveTokens(1)).toBe(18);
    expect(promptReserveTokens(4)).toBe(21);
    expect(promptReserveTokens(10)).toBe(29);
    expect(promptReserveTokens(100)).toBe(141);
  });
});

describe('opening a meter', () => {
  it('reserves the worst case of a live request from the replica’s lease and writes its row', async () => {
    const c = await customer();
    const metering = new Metering(store.db, bus, 'rep_m1', recordingLogger().logger);
    const ctx = c.ctx();
    const meter = await metering.open(ctx, model, 'chat', estimate, true);
    await meter.recorded;
    // 29 prompt tokens × 0.000001 + 100 × 0.000002.
    expect(meter.reservedCost).toBe(229_000_000n);
    expect(meter.prices).toEqual(model.prices);
    const r = await row(ctx.requestId);
    expect(r).toMatchObject({ status: 'reserved', endpoint: 'chat', modelId: 'metered-model', promptTokens: 10, stream: true, test: false, replicaId: 'rep_m1', projectId: c.projectId, apiKeyId: c.keyId });
    expect([plain(r.reservedCost), plain(r.inputPrice), plain(r.outputPrice), plain(r.cachedInputPrice)]).toEqual(['0.000229', '1', '2', '0.5']);
    expect(r.leaseId).toMatch(/^lse_/);
    // The lease: 10 / 4 = 2.5 covers 10,917 requests of 0.000229, capped at 1,024: 0.234496.
    expect(await projectRow(c.projectId)).toEqual({ balance: '10', reserved: '0.234496' });
    await metering.escrow.releaseAll();
  });

  it('reserves on the project and key rows for a key with a spend limit', async () => {
    const c = await customer({ spendLimit: '1' });
    const metering = new Metering(store.db, bus, 'rep_m2', recordingLogger().logger);
    const ctx = c.ctx();
    await metering.open(ctx, model, 'embeddings', estimate, false);
    const r = await row(ctx.requestId);
    expect(r).toMatchObject({ status: 'reserved', endpoint: 'embeddings', leaseId: null, stream: false });
    expect(plain(r.reservedCost)).toBe('0.000229');
    expect(await projectRow(c.projectId)).toEqual({ balance: '10', reserved: '0.000229' });
    expect((await keyRow(c.keyId)).reserved).toBe('0.000229');
    expect(await store.db.select().from(leases).where(eq(leases.projectId, c.projectId))).toEqual([]);
  });

  it('reserves on the project row when the project is too close to empty for a lease', async () => {
    // 0.0009 / 4 covers fewer than 4 requests of 0.000229.
    const c = await customer({ balance: '0.0009' });
    const metering = new Metering(store.db, bus, 'rep_m3', recordingLogger().logger);
    const ctx = c.ctx();
    await metering.open(ctx, model, 'chat', estimate, false);
    expect((await row(ctx.requestId)).leaseId).toBeNull();
    expect(await projectRow(c.projectId)).toEqual({ balance: '0.0009', reserved: '0.000229' });
  });

  it('lets a test key through at a zero price, holding nothing', async () => {
    const c = await customer({ mode: 'test', balance: '0' });
    const metering = new Metering(store.db, bus, 'rep_m4', recordingLogger().logger);
    const ctx = c.ctx();
    const meter = await metering.open(ctx, model, 'chat', estimate, false);
    await meter.recorded;
    expect(meter.reservedCost).toBe(0n);
    expect(meter.costOf(usage)).toBe(0n);
    const r = await row(ctx.requestId);
    expect(r).toMatchObject({ status: 'reserved', test: true, leaseId: null });
    expect([plain(r.reservedCost), plain(r.inputPrice), plain(r.outputPrice), plain(r.cachedInputPrice)]).toEqual(['0', '0', '0', '0']);
    expect(await projectRow(c.projectId)).toEqual({ balance: '0', reserved: '0' });
  });

  it('refuses with 402 what the balance cannot cover, holding nothing (the admission step records the refusal)', async () => {
    const c = await customer({ balance: '0.0002' });
    const metering = new Metering(store.db, bus, 'rep_m5', recordingLogger().logger);
    const ctx = c.ctx();
    const err = await metering.open(ctx, model, 'chat', estimate, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 402, type: 'insufficient_quota' });
    expect(await store.db.select().from(usageRecords).where(eq(usageRecords.id, ctx.requestId))).toEqual([]);
    await metering.reject(ctx, model.id, 'chat', err as GatewayError, true);
    const r = await row(ctx.requestId);
    expect(r).toMatchObject({ status: 'rejected', httpStatus: 402, errorCode: 'insufficient_quota', stream: true, test: false, endpoint: 'chat', modelId: 'metered-model', replicaId: 'rep_m5' });
    expect(r.settledAt).toBeInstanceOf(Date);
    expect(await projectRow(c.projectId)).toEqual({ balance: '0.0002', reserved: '0' });
    // Nothing is open: a drain does not wait for the refused request.
    await metering.drain(60_000);
  });

  it('records no refusal for a failure that is not the client’s, and holds nothing open', async () => {
    const c = await customer({ spendLimit: '1' });
    const metering = new Metering(store.db, bus, 'rep_m6', recordingLogger().logger);
    const ctx = c.ctx();
    const transaction = vi.spyOn(store.db, 'transaction').mockRejectedValueOnce(new Error('database gone'));
    const err = await metering.open(ctx, model, 'chat', estimate, false).catch((e: unknown) => e);
    transaction.mockRestore();
    expect(err).toEqual(new Error('database gone'));
    expect(await store.db.select().from(usageRecords).where(eq(usageRecords.id, ctx.requestId))).toEqual([]);
    await metering.drain(60_000);
  });
});

describe('settling a meter', () => {
  it('charges the real cost off the client’s path and publishes the usage and the balance', async () => {
    const c = await customer({ spendLimit: '1' });
    const metering = new Metering(store.db, bus, 'rep_s1', recordingLogger().logger);
    const ctx = c.ctx();
    const meter = await metering.open(ctx, model, 'chat', estimate, true);
    meter.close({ status: 'ok', httpStatus: 200, usage, route, ttftMs: 12 });
    await written(metering, meter);
    const r = await row(ctx.requestId);
    // 6 uncached × 0.000001 + 4 cached × 0.0000005 + 5 × 0.000002.
    expect(plain(r.cost)).toBe('0.000018');
    expect(r).toMatchObject({ status: 'ok', httpStatus: 200, errorCode: null, promptTokens: 10, completionTokens: 5, cachedTokens: 4, reasoningTokens: 1, provider: 'openai', upstreamModel: 'gpt-up', upstreamKeyId: 'upk_1', attempts: 2, ttftMs: 12 });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(await projectRow(c.projectId)).toEqual({ balance: '9.999982', reserved: '0' });
    expect(await keyRow(c.keyId)).toEqual({ reserved: '0', periodSpent: '0.000018', spentTotal: '0.000018' });
    const event = usageEvents.find((e) => e.requestId === ctx.requestId);
    expect(event).toEqual({
      requestId: ctx.requestId,
      projectId: c.projectId,
      apiKeyId: c.keyId,
      model: 'metered-model',
      provider: 'openai',
      upstreamKeyId: 'upk_1',
      status: 'ok',
      httpStatus: 200,
      promptTokens: 10,
      completionTokens: 5,
      cachedTokens: 4,
      reasoningTokens: 1,
      cost: '0.000018',
      latencyMs: r.latencyMs,
      ttftMs: 12,
      stream: true,
      test: false,
      // When the reservation was held: the row's created_at is the database's clock for about the same moment.
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
      // Published as the meter closed, before the settlement batch was written.
      settled: false,
    });
    expect(Math.abs(Date.parse(event!.createdAt) - r.createdAt.getTime())).toBeLessThan(5_000);
    expect(balanceEvents.filter((e) => e.projectId === c.projectId)).toEqual([{ projectId: c.projectId, balance: '9.999982', reserved: '0' }]);
  });

  it('records what it does not know as null and no attempts', async () => {
    const c = await customer({ spendLimit: '1' });
    const metering = new Metering(store.db, bus, 'rep_s2', recordingLogger().logger);
    const ctx = c.ctx();
    const meter = await metering.open(ctx, model, 'chat', estimate, false);
    meter.close({ status: 'error', httpStatus: 502, errorCode: 'upstream_error', usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 } });
    await written(metering, meter);
    expect(await row(ctx.requestId)).toMatchObject({ status: 'error', httpStatus: 502, errorCode: 'upstream_error', provider: null, upstreamModel: null, upstreamKeyId: null, ttftMs: null, attempts: 0, cost: '0.000000000000' });
    const event = usageEvents.find((e) => e.requestId === ctx.requestId);
    expect(event).toMatchObject({ provider: null, upstreamKeyId: null, ttftMs: null, cost: '0', status: 'error', httpStatus: 502 });
    // Nothing charged: no balance event.
    expect(balanceEvents.filter((e) => e.projectId === c.projectId)).toEqual([]);
    expect(await projectRow(c.projectId)).toEqual({ balance: '10', reserved: '0' });
  });

  it('settles a lease-backed request into the lease, which goes on serving the replica', async () => {
    const c = await customer();
    const metering = new Metering(store.db, bus, 'rep_s3', recordingLogger().logger);
    const ctx = c.ctx();
    const meter = await metering.open(ctx, model, 'chat', estimate, false);
    meter.close({ status: 'ok', httpStatus: 200, usage, route });
    await written(metering, meter);
    // The lease of 0.234496 paid 0.000018 and still holds the rest for this replica.
    expect(await projectRow(c.projectId)).toEqual({ balance: '9.999982', reserved: '0.234478' });
    await metering.escrow.release(c.projectId);
    expect(await projectRow(c.projectId)).toEqual({ balance: '9.999982', reserved: '0' });
  });

  it('publishes one balance per project for a batch, the balance after all of it', async () => {
    const c = await customer({ spendLimit: '1' });
    const metering = new Metering(store.db, bus, 'rep_s4', recordingLogger().logger);
    const [a, b] = [c.ctx(), c.ctx()];
    const meters = [await metering.open(a, model, 'chat', estimate, false), await metering.open(b, model, 'chat', estimate, false)];
    for (const m of meters) m.close({ status: 'ok', httpStatus: 200, usage, route });
    await written(metering, ...meters);
    expect(usageEvents.filter((e) => e.requestId === a.requestId || e.requestId === b.requestId).map((e) => e.cost)).toEqual(['0.000018', '0.000018']);
    expect(balanceEvents.filter((e) => e.projectId === c.projectId)).toEqual([{ projectId: c.projectId, balance: '9.999964', reserved: '0' }]);
  });

  it('a meter closes once: a second close changes nothing and is not counted again', async () => {
    const c = await customer({ spendLimit: '1' });
    const metering = new Metering(store.db, bus, 'rep_s5', recordingLogger().logger);
    const [first, second] = [await metering.open(c.ctx(), model, 'chat', estimate, false), await metering.open(c.ctx(), model, 'chat', estimate, false)];
    first.close({ status: 'ok', httpStatus: 200, usage, route });
    first.close({ status: 'ok', httpStatus: 200, usage: { ...usage, completionTokens: 50 }, route });
    let drained = false;
    const draining = metering.drain(60_000).then(() => (drained = true));
    await written(metering, first);
    // The second meter is still open: counting the first one twice would end the drain now.
    expect(drained).toBe(false);
    expect(plain((await row(first.ctx.requestId)).cost)).toBe('0.000018');
    second.close({ status: 'ok', httpStatus: 200, usage, route });
    await draining;
    expect((await row(second.ctx.requestId)).status).toBe('ok');
  });

  it('waits for company: settlements closed within the wait share one statement', async () => {
    const c = await customer({ spendLimit: '1' });
    const metering = new Metering(store.db, bus, 'rep_s6', recordingLogger().logger);
    const meters = [];
    for (let i = 0; i < 3; i++) meters.push(await metering.open(c.ctx(), model, 'chat', estimate, false));
    const transaction = vi.spyOn(store.db, 'transaction');
    for (const m of meters) m.close({ status: 'ok', httpStatus: 200, usage, route });
    await written(metering, ...meters);
    expect(transaction).toHaveBeenCalledTimes(1);
    transaction.mockRestore();
    expect(await projectRow(c.projectId)).toEqual({ balance: '9.999946', reserved: '0' });
  });
});

describe('the written row the client waits for', () => {
  it('passes on the upstream’s answer once the row is written', async () => {
    const c = await customer();
    const metering = new Metering(store.db, bus, 'rep_w1', recordingLogger().logger);
    const meter = await metering.open(c.ctx(), model, 'chat', estimate, false);
    const stop = vi.fn();
    expect(await meter.whenRecorded(Promise.resolve('answer'), stop)).toBe('answer');
    expect(stop).not.toHaveBeenCalled();
    await metering.escrow.releaseAll();
  });

  it('stops the upstream call when the row cannot be written, gives the money back and settles nothing', async () => {
    const c = await customer();
    const { logger, lines } = recordingLogger();
    const metering = new Metering(store.db, bus, 'rep_w2', logger);
    // A key id no row may reference: the lease admits the request, the row's insert fails.
    const ctx = { ...c.ctx(), key: { ...c.key, id: 'key_missing' } };
    const meter: Meter = await metering.open(ctx, model, 'chat', estimate, false);
    const stop = vi.fn();
    const never = new Promise<string>(() => {});
    const err = await meter.whenRecorded(never, stop).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(stop).toHaveBeenCalledWith(err);
    meter.close({ status: 'ok', httpStatus: 200, usage, route });
    await metering.drain(60_000);
    expect(lines).toEqual([{ level: 'error', obj: { err, requestId: ctx.requestId }, msg: 'reservation row not written; nothing to settle' }]);
    // The reservation went back into the lease: giving the lease back leaves nothing reserved.
    await metering.escrow.release(c.projectId);
    expect(await projectRow(c.projectId)).toEqual({ balance: '10', reserved: '0' });
  });
});

describe('a settlement the database refuses', () => {
  it('is retried until it is written', async () => {
    const c = await customer({ spendLimit: '1' });
    const { logger, lines } = recordingLogger();
    const metering = new Metering(store.db, bus, 'rep_f1', logger);
    const meter = await metering.open(c.ctx(), model, 'chat', estimate, false);
    const transaction = vi.spyOn(store.db, 'transaction');
    for (let i = 0; i < 5; i++) transaction.mockRejectedValueOnce(new Error('database gone'));
    meter.close({ status: 'ok', httpStatus: 200, usage, route });
    await written(metering, meter);
    transaction.mockRestore();
    expect(lines).toEqual([]);
    expect((await row(meter.ctx.requestId)).status).toBe('ok');
    expect(await projectRow(c.projectId)).toEqual({ balance: '9.999982', reserved: '0' });
  });

  it('is left to the recovery pass after five retries, with an error naming the requests', async () => {
    const c = await customer({ spendLimit: '1' });
    const { logger, lines } = recordingLogger();
    const metering = new Metering(store.db, bus, 'rep_f2', logger);
    const meter = await metering.open(c.ctx(), model, 'chat', estimate, false);
    const transaction = vi.spyOn(store.db, 'transaction');
    for (let i = 0; i < 6; i++) transaction.mockRejectedValueOnce(new Error('database gone'));
    meter.close({ status: 'ok', httpStatus: 200, usage, route });
    await written(metering, meter);
    transaction.mockRestore();
    expect(lines).toEqual([{ level: 'error', obj: { err: new Error('database gone'), requests: [meter.ctx.requestId] }, msg: 'settlement failed; left for recovery' }]);
    expect((await row(meter.ctx.requestId)).status).toBe('reserved');
    // The next settlement is written as usual.
    const next = await metering.open(c.ctx(), model, 'chat', estimate, false);
    next.close({ status: 'ok', httpStatus: 200, usage, route });
    await written(metering, next);
    expect((await row(next.ctx.requestId)).status).toBe('ok');
  });
});

describe('shutdown', () => {
  it('idle returns at once when nothing is queued', async () => {
    const metering = new Metering(store.db, bus, 'rep_d1', recordingLogger().logger);
    await written(metering);
    await metering.drain(60_000);
  });

  it('drain warns about requests still open after the grace, and leaves them reserved', async () => {
    const c = await customer({ spendLimit: '1' });
    const { logger, lines } = recordingLogger();
    const metering = new Metering(store.db, bus, 'rep_d2', logger);
    const meter = await metering.open(c.ctx(), model, 'chat', estimate, false);
    await metering.drain(10);
    expect(lines).toEqual([{ level: 'warn', obj: { open: 1 }, msg: 'requests still open at shutdown; their reservations are left for recovery' }]);
    expect((await row(meter.ctx.requestId)).status).toBe('reserved');
  });
});
