import { eq, sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { changeBalance } from '../../src/core/billing/ledger.js';
import { recordRejection } from '../../src/core/billing/record-rejection.js';
import { recoverStaleReservations } from '../../src/core/billing/recover-stale.js';
import { ReplicaHeartbeat } from '../../src/core/billing/replica-heartbeat.js';
import { insertReservations, type Reservation, reserve } from '../../src/core/billing/reserve.js';
import { type SettleResult, settle, settleMany, settlementRows } from '../../src/core/billing/settle.js';
import { GatewayError } from '../../src/core/errors.js';
import { newId } from '../../src/contract/ids.js';
import { apiKeys, leases, ledgerEntries, projects, replicas, usageRecords } from '../../src/db/schema.js';
import { okSettlement } from '../helpers/ok-settlement.js';
import { plain, useTestDatabase } from '../helpers/use-test-database.js';

// Amounts are pico-units (1e-12) in, decimals out; every expected figure is
// worked out by hand. Prices: 1 per 1M input tokens, 2 per 1M output.
const store = useTestDatabase();
const { projectRow, keyRow } = store;

const MILLI = 1_000_000_000n;

const customer = (balance = '1', key: { spendLimit?: string; spendLimitPeriod?: 'total' | 'monthly' } = {}) =>
  store.customer({ project: 'settle', balance, ...key });

const reservation = (c: { projectId: string; apiKeyId: string }, cost: bigint, extra: Partial<Reservation> = {}): Reservation => ({
  requestId: newId('req'),
  projectId: c.projectId,
  apiKeyId: c.apiKeyId,
  endpoint: 'chat',
  modelId: 'm',
  cost,
  promptTokens: 300,
  prices: { input: 1_000_000n, output: 2_000_000n, cachedInput: 500_000n, cacheWrite: 1_000_000n, cacheWrite1h: 1_000_000n },
  priceText: { input: '1', output: '2', cachedInput: '0.5', cacheWrite: '1', cacheWrite1h: '1' },
  stream: false,
  test: false,
  replicaId: 'rep_settle',
  ...extra,
});

const ledgerOf = async (projectId: string) =>
  (await store.db.select().from(ledgerEntries).where(eq(ledgerEntries.projectId, projectId)).orderBy(ledgerEntries.id)).map((l) => ({
    kind: l.kind,
    amount: plain(l.amount),
    balanceAfter: plain(l.balanceAfter),
    requestId: l.requestId,
    reason: l.reason,
    actor: l.actor,
  }));

describe('reserving on the rows', () => {
  it('admits a cost equal to what is available, and says what it may cost when it cannot', async () => {
    const c = await customer('1');
    await reserve(store.db, reservation(c, 600n * MILLI));
    await reserve(store.db, reservation(c, 400n * MILLI));
    expect(await projectRow(c.projectId)).toEqual({ balance: '1', reserved: '1' });
    const err = await reserve(store.db, reservation(c, 1n)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({
      status: 402,
      type: 'insufficient_quota',
      message:
        "Insufficient balance: this request may cost up to 0.000000000001 and the project's available balance cannot cover it. Top up the balance or lower max_tokens.",
    });
  });

  it('admits up to the key’s spend limit, counting what it spent and holds, and refuses beyond it', async () => {
    const c = await customer('10', { spendLimit: '1' });
    await store.db.update(apiKeys).set({ periodSpent: '0.3' }).where(eq(apiKeys.id, c.apiKeyId));
    await reserve(store.db, reservation(c, 200n * MILLI));
    await reserve(store.db, reservation(c, 500n * MILLI));
    expect((await keyRow(c.apiKeyId)).reserved).toBe('0.7');
    const err = await reserve(store.db, reservation(c, 1n)).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 402, type: 'insufficient_quota', message: "This request would exceed the API key's spend limit." });
    // Refused whole: the project row holds only the two admitted requests.
    expect(await projectRow(c.projectId)).toEqual({ balance: '10', reserved: '0.7' });
  });

  it('starts a monthly limit afresh in a new month, never a total one', async () => {
    const monthly = await customer('10', { spendLimit: '1', spendLimitPeriod: 'monthly' });
    const total = await customer('10', { spendLimit: '1', spendLimitPeriod: 'total' });
    for (const c of [monthly, total]) {
      await store.db.update(apiKeys).set({ periodSpent: '1', periodStart: sql`date_trunc('month', now()) - interval '1 day'` }).where(eq(apiKeys.id, c.apiKeyId));
    }
    await reserve(store.db, reservation(monthly, 500n * MILLI));
    await expect(reserve(store.db, reservation(total, 1n))).rejects.toMatchObject({ status: 402 });
  });

  it('writes the reserved row with the prices in force and no lease', async () => {
    const c = await customer('1');
    const r = reservation(c, 5n * MILLI, { endpoint: 'embeddings', stream: true });
    await reserve(store.db, r);
    const [row] = await store.db.select().from(usageRecords).where(eq(usageRecords.id, r.requestId));
    expect(row).toMatchObject({ status: 'reserved', endpoint: 'embeddings', stream: true, test: false, promptTokens: 300, leaseId: null, replicaId: 'rep_settle', modelId: 'm', settledAt: null });
    expect([plain(row!.reservedCost), plain(row!.inputPrice), plain(row!.outputPrice), plain(row!.cachedInputPrice)]).toEqual(['0.005', '1', '2', '0.5']);
  });

  it('writes many reserved rows in one statement, each with its own lease or none', async () => {
    const c = await customer('1');
    const [a, b] = [reservation(c, 2n * MILLI, { test: true }), reservation(c, 3n * MILLI, { stream: true })];
    await insertReservations(store.db, [
      { reservation: a, leaseId: 'lse_x' },
      { reservation: b, leaseId: null },
    ]);
    const rows = await store.db.select().from(usageRecords).where(eq(usageRecords.projectId, c.projectId));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(a.requestId)).toMatchObject({ status: 'reserved', leaseId: 'lse_x', test: true, stream: false, promptTokens: 300, endpoint: 'chat', modelId: 'm', apiKeyId: c.apiKeyId, replicaId: 'rep_settle' });
    expect(byId.get(b.requestId)).toMatchObject({ leaseId: null, test: false, stream: true });
    expect(plain(byId.get(a.requestId)!.reservedCost)).toBe('0.002');
    expect([plain(byId.get(b.requestId)!.reservedCost), plain(byId.get(b.requestId)!.inputPrice), plain(byId.get(b.requestId)!.outputPrice), plain(byId.get(b.requestId)!.cachedInputPrice)]).toEqual(['0.003', '1', '2', '0.5']);
  });
});

describe('settling', () => {
  it('sends each settlement as one JSON row: a charge below zero as zero, and a ledger id only for a charge', () => {
    const rows = JSON.parse(
      settlementRows([
        okSettlement('req_a', 7n * MILLI, { errorCode: 'x', provider: 'openai', upstreamModel: 'u', upstreamKeyId: 'upk', latencyMs: 9, ttftMs: 3, cachedTokens: 2, reasoningTokens: 1 }),
        okSettlement('req_b', -5n),
        okSettlement('req_c', 0n),
      ]),
    ) as Array<Record<string, unknown>>;
    expect(rows[0]).toEqual({
      ord: 0,
      id: 'req_a',
      status: 'ok',
      http_status: 200,
      error_code: 'x',
      prompt_tokens: 10,
      completion_tokens: 5,
      cached_tokens: 2,
      reasoning_tokens: 1,
      cache_write_tokens: 0,
      cache_write_1h_tokens: 0,
      cost: '0.007',
      provider: 'openai',
      upstream_model: 'u',
      upstream_key_id: 'upk',
      latency_ms: 9,
      ttft_ms: 3,
      attempts: 1,
      attempt_log: null,
      admission_ms: null,
      trace_id: null,
      ledger_id: expect.stringMatching(/^led_/),
    });
    expect(rows[1]).toMatchObject({ ord: 1, cost: '0', ledger_id: null, error_code: null, provider: null, upstream_model: null, upstream_key_id: null, latency_ms: null, ttft_ms: null });
    expect(rows[2]).toMatchObject({ ord: 2, cost: '0', ledger_id: null });
  });

  it('asks nothing of the database for nothing to settle', async () => {
    const transaction = vi.spyOn(store.db, 'transaction');
    expect(await settleMany(store.db, [])).toEqual([]);
    expect(transaction).not.toHaveBeenCalled();
    transaction.mockRestore();
  });

  it('releases a row reservation whole from project and key, charges both, and writes ledger entries in order', async () => {
    const c = await customer('1', { spendLimit: '5' });
    const [a, b] = [reservation(c, 300n * MILLI), reservation(c, 200n * MILLI)];
    await reserve(store.db, a);
    await reserve(store.db, b);
    const results = await settleMany(store.db, [okSettlement(a.requestId, 100n * MILLI), okSettlement(b.requestId, 250n * MILLI)]);
    expect(results.map((r: SettleResult) => ({ ...r, createdAt: r.createdAt instanceof Date }))).toEqual([
      { requestId: a.requestId, projectId: c.projectId, apiKeyId: c.apiKeyId, leaseId: null, reserved: 300n * MILLI, charged: 100n * MILLI, projectBalance: 700n * MILLI, projectReserved: 0n, createdAt: true, test: false, stream: false, modelId: 'm' },
      // Charged at most its reservation of 0.2.
      { requestId: b.requestId, projectId: c.projectId, apiKeyId: c.apiKeyId, leaseId: null, reserved: 200n * MILLI, charged: 200n * MILLI, projectBalance: 700n * MILLI, projectReserved: 0n, createdAt: true, test: false, stream: false, modelId: 'm' },
    ]);
    expect(await projectRow(c.projectId)).toEqual({ balance: '0.7', reserved: '0' });
    expect(await keyRow(c.apiKeyId)).toEqual({ reserved: '0', periodSpent: '0.3', spentTotal: '0.3' });
    const charges = (await ledgerOf(c.projectId)).filter((l) => l.kind === 'charge');
    // Balances after each charge follow the batch's order (ledger ids made in one millisecond need not).
    expect(charges.sort((x, y) => y.balanceAfter.localeCompare(x.balanceAfter))).toEqual([
      { kind: 'charge', amount: '-0.1', balanceAfter: '0.9', requestId: a.requestId, reason: 'usage m', actor: 'system' },
      { kind: 'charge', amount: '-0.2', balanceAfter: '0.7', requestId: b.requestId, reason: 'usage m', actor: 'system' },
    ]);
    // Settled once: a second settlement finds nothing open.
    expect(await settle(store.db, okSettlement(a.requestId, 100n * MILLI))).toBeUndefined();
  });

  it('starts a monthly key’s spend afresh when it settles in a new month', async () => {
    const c = await customer('1', { spendLimit: '5', spendLimitPeriod: 'monthly' });
    await store.db.update(apiKeys).set({ periodSpent: '2', spentTotal: '2', periodStart: sql`date_trunc('month', now()) - interval '1 day'` }).where(eq(apiKeys.id, c.apiKeyId));
    const r = reservation(c, 300n * MILLI);
    await reserve(store.db, r);
    await settle(store.db, okSettlement(r.requestId, 100n * MILLI));
    expect(await keyRow(c.apiKeyId)).toEqual({ reserved: '0', periodSpent: '0.1', spentTotal: '2.1' });
  });
});

describe('balance changes', () => {
  it('credits with a ledger entry carrying the balance after it', async () => {
    const c = await customer('1');
    expect(await changeBalance(store.db, { projectId: c.projectId, amount: 250n * MILLI, kind: 'credit', reason: 'top up', actor: 'ops' })).toEqual({ balance: 1_250n * MILLI, reserved: 0n });
    expect((await ledgerOf(c.projectId)).at(-1)).toEqual({ kind: 'credit', amount: '0.25', balanceAfter: '1.25', requestId: null, reason: 'top up', actor: 'ops' });
  });

  it('refuses a credit of zero or less, naming the amount', async () => {
    const c = await customer('1');
    for (const amount of [0n, -1n]) {
      await expect(changeBalance(store.db, { projectId: c.projectId, amount, kind: 'credit', reason: 'r', actor: 'a' })).rejects.toMatchObject({
        status: 400,
        param: 'amount',
        message: 'A credit must be a positive amount.',
      });
    }
    expect(await ledgerOf(c.projectId)).toHaveLength(1);
  });

  it('lets an adjustment take the balance down to what is reserved, and not below, writing nothing when refused', async () => {
    const c = await customer('1');
    await reserve(store.db, reservation(c, 400n * MILLI));
    expect(await changeBalance(store.db, { projectId: c.projectId, amount: -600n * MILLI, kind: 'adjustment', reason: 'r', actor: 'a' })).toEqual({ balance: 400n * MILLI, reserved: 400n * MILLI });
    const err = await changeBalance(store.db, { projectId: c.projectId, amount: -1n, kind: 'adjustment', reason: 'r', actor: 'a' }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      status: 400,
      param: 'amount',
      message: 'This change would leave the balance (0.399999999999) below the amount reserved by in-flight requests (0.4).',
    });
    expect(await projectRow(c.projectId)).toEqual({ balance: '0.4', reserved: '0.4' });
    expect((await ledgerOf(c.projectId)).map((l) => l.amount)).toEqual(['1', '-0.6']);
  });

  it('answers 404 for a project that does not exist', async () => {
    await expect(changeBalance(store.db, { projectId: 'prj_missing', amount: 1n, kind: 'credit', reason: 'r', actor: 'a' })).rejects.toMatchObject({
      status: 404,
      message: 'Project prj_missing not found.',
    });
  });
});

describe('refusals and recovery', () => {
  it('records a refusal once as a settled `rejected` row', async () => {
    const c = await customer('1');
    const rejection = { requestId: newId('req'), projectId: c.projectId, apiKeyId: c.apiKeyId, endpoint: 'embeddings' as const, modelId: 'm', httpStatus: 429, errorCode: 'rate_limit_error', stream: true, test: true, replicaId: 'rep_r' };
    await recordRejection(store.db, rejection);
    await recordRejection(store.db, { ...rejection, httpStatus: 403 });
    const rows = await store.db.select().from(usageRecords).where(eq(usageRecords.id, rejection.requestId));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'rejected', httpStatus: 429, errorCode: 'rate_limit_error', endpoint: 'embeddings', stream: true, test: true, replicaId: 'rep_r', modelId: 'm' });
    expect(rows[0]!.settledAt).toBeInstanceOf(Date);
  });

  it('settles a dead replica’s reservation at its prompt’s input price, calls back per settlement, and returns its leases', async () => {
    const c = await customer('1');
    const dead = `rep_dead_${newId('x')}`;
    const alive = `rep_alive_${newId('x')}`;
    await store.db.insert(replicas).values([{ id: alive, hostname: 't' }]);
    const r = reservation(c, 400n * MILLI, { replicaId: dead });
    await reserve(store.db, r);
    // The dead replica's lease of 0.1, and the live one's of 0.05, counted in the project's reserved.
    await store.db.insert(leases).values([
      { id: `lse_${dead}`, projectId: c.projectId, replicaId: dead, amount: '0.1' },
      { id: `lse_${alive}`, projectId: c.projectId, replicaId: alive, amount: '0.05' },
    ]);
    await store.db.update(projects).set({ reserved: sql`${projects.reserved} + 0.15` }).where(eq(projects.id, c.projectId));
    const seen: string[] = [];
    const rule = { olderThan: new Date(Date.now() - 3_600_000), deadBefore: new Date(Date.now() - 60_000) };
    const count = await recoverStaleReservations(store.db, rule, (s) => seen.push(s.requestId));
    expect(count).toBeGreaterThanOrEqual(1);
    expect(seen).toContain(r.requestId);
    const [row] = await store.db.select().from(usageRecords).where(eq(usageRecords.id, r.requestId));
    // 300 prompt tokens × 0.000001.
    expect(row).toMatchObject({ status: 'aborted', httpStatus: 499, errorCode: 'recovered', promptTokens: 300, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0, attempts: 0 });
    expect(plain(row!.cost)).toBe('0.0003');
    // 0.4 released, 0.1 of the dead lease returned; the live replica's 0.05 stays.
    expect(await projectRow(c.projectId)).toEqual({ balance: '0.9997', reserved: '0.05' });
    const left = await store.db.select().from(leases).where(eq(leases.projectId, c.projectId));
    expect(left.map((l) => l.id)).toEqual([`lse_${alive}`]);
  });

  it('keeps a dead replica’s lease while one of its requests is still open', async () => {
    const c = await customer('1');
    const dead = `rep_dead_${newId('x')}`;
    await store.db.insert(leases).values({ id: `lse_${dead}`, projectId: c.projectId, replicaId: dead, amount: '0.1' });
    // A young reservation of a live replica, from that lease: it is not stale, so the lease stays.
    const alive = `rep_alive_${newId('x')}`;
    await store.db.insert(replicas).values({ id: alive, hostname: 't' });
    await insertReservations(store.db, [{ reservation: reservation(c, MILLI, { replicaId: alive }), leaseId: `lse_${dead}` }]);
    await recoverStaleReservations(store.db, { olderThan: new Date(Date.now() - 3_600_000), deadBefore: new Date(Date.now() - 60_000) });
    expect((await store.db.select().from(leases).where(eq(leases.projectId, c.projectId))).map((l) => plain(l.amount))).toEqual(['0.1']);
  });
});

describe('the replica heartbeat', () => {
  it('registers the process, keeps its heartbeat fresh, and unregisters it', async () => {
    const id = `rep_hb_${newId('x')}`;
    const heartbeat = new ReplicaHeartbeat(store.db, id, 5, () => {});
    await heartbeat.start();
    const [registered] = await store.db.select().from(replicas).where(eq(replicas.id, id));
    expect(registered).toMatchObject({ id, pid: process.pid });
    expect(registered!.hostname.length).toBeGreaterThan(0);
    // The heartbeat moves on by itself.
    for (let i = 0; i < 1_000; i++) {
      const [now] = await store.db.select().from(replicas).where(eq(replicas.id, id));
      if (now!.heartbeatAt > registered!.heartbeatAt) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const [later] = await store.db.select().from(replicas).where(eq(replicas.id, id));
    expect(later!.heartbeatAt.getTime()).toBeGreaterThan(registered!.heartbeatAt.getTime());
    await heartbeat.stop();
    expect(await store.db.select().from(replicas).where(eq(replicas.id, id))).toEqual([]);
  });

  it('hands a failed unregistration to its error handler', async () => {
    const errors: unknown[] = [];
    const heartbeat = new ReplicaHeartbeat(store.db, `rep_hb_${newId('x')}`, 60_000, (e) => errors.push(e));
    await heartbeat.start();
    const del = vi.spyOn(store.db, 'delete').mockImplementationOnce(() => ({ where: () => Promise.reject(new Error('database gone')) }) as never);
    await heartbeat.stop();
    del.mockRestore();
    expect(errors).toEqual([new Error('database gone')]);
  });
});
