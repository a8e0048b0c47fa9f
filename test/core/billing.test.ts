import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeBalance } from '../../src/core/billing/ledger.js';
import { Metering } from '../../src/core/billing/metering.js';
import { ReservationWriter } from '../../src/core/billing/reservation-writer.js';
import { silentLogger } from '../../src/core/logger.js';
import type { CatalogueModel } from '../../src/core/catalogue/catalogue.js';
import { recoverStaleReservations } from '../../src/core/billing/recover-stale.js';
import { reserve } from '../../src/core/billing/reserve.js';
import { settle } from '../../src/core/billing/settle.js';
import { GatewayError } from '../../src/core/errors.js';
import { newId } from '../../src/contract/ids.js';
import { formatMoney, parseMoney, parsePrice } from '../../src/core/money.js';
import { rowsOf } from '../../src/db/rows.js';
import { ledgerEntries, projects, replicas, usageRecords } from '../../src/db/schema.js';
import { okSettlement } from '../helpers/ok-settlement.js';
import { useTestDatabase } from '../helpers/use-test-database.js';
import { detachedClient, type RequestContext } from '../../src/core/request-context.js';

const store = useTestDatabase();

const prices = { input: parsePrice('1'), output: parsePrice('2'), cachedInput: parsePrice('0.5'), cacheWrite: parsePrice('1'), cacheWrite1h: parsePrice('1') };
const priceText = { input: '1', output: '2', cachedInput: '0.5', cacheWrite: '1', cacheWrite1h: '1' };

const setup = (balance: string, spendLimit?: string) => store.customer({ project: 'p', balance, spendLimit });

const reservation = (p: { projectId: string; apiKeyId: string }, cost: bigint, requestId = newId('req')) => ({
  requestId,
  projectId: p.projectId,
  apiKeyId: p.apiKeyId,
  endpoint: 'chat' as const,
  modelId: 'm',
  cost,
  promptTokens: 10,
  prices,
  priceText,
  stream: false,
  test: false,
  replicaId: 'rep_test',
});

async function invariants(projectId: string) {
  const [project] = await store.db.select().from(projects).where(eq(projects.id, projectId));
  const [ledger] = rowsOf<{ total: string | null }>(await store.db.execute(sql`select coalesce(sum(amount), 0)::text as total from ledger_entries where project_id = ${projectId}`));
  const [open] = rowsOf<{ total: string | null }>(await store.db.execute(sql`select coalesce(sum(reserved_cost), 0)::text as total from usage_records where project_id = ${projectId} and status = 'reserved'`));
  return { balance: parseMoney(project!.balance), reserved: parseMoney(project!.reserved), ledger: parseMoney(ledger!.total ?? '0'), open: parseMoney(open!.total ?? '0') };
}

describe('reserve → settle', () => {
  it('charges the real cost once, releases the rest and writes one ledger entry', async () => {
    const p = await setup('1');
    const id = newId('req');
    await reserve(store.db, reservation(p, parseMoney('0.3'), id));
    expect(await invariants(p.projectId)).toMatchObject({ balance: parseMoney('1'), reserved: parseMoney('0.3') });
    const first = await settle(store.db, okSettlement(id, parseMoney('0.1')));
    const again = await settle(store.db, okSettlement(id, parseMoney('0.1')));
    expect(first?.charged).toBe(parseMoney('0.1'));
    expect(again).toBeUndefined();
    const inv = await invariants(p.projectId);
    expect(inv).toMatchObject({ balance: parseMoney('0.9'), reserved: 0n, ledger: parseMoney('0.9') });
    const charges = await store.db.select().from(ledgerEntries).where(eq(ledgerEntries.requestId, id));
    expect(charges).toHaveLength(1);
  });

  it('never charges more than was reserved', async () => {
    const p = await setup('1');
    const id = newId('req');
    await reserve(store.db, reservation(p, parseMoney('0.2'), id));
    const result = await settle(store.db, okSettlement(id, parseMoney('5')));
    expect(result?.charged).toBe(parseMoney('0.2'));
    expect((await invariants(p.projectId)).balance).toBe(parseMoney('0.8'));
  });

  it('refuses with 402 what the balance or the key limit cannot cover, writing nothing', async () => {
    const p = await setup('1', '0.5');
    await expect(reserve(store.db, reservation(p, parseMoney('1.5')))).rejects.toMatchObject({ status: 402 });
    // Within the balance (1) but past the key's limit (0.5): the key's own 402.
    const overLimit = reserve(store.db, reservation(p, parseMoney('0.6')));
    await expect(overLimit).rejects.toBeInstanceOf(GatewayError);
    await expect(overLimit).rejects.toMatchObject({ status: 402, type: 'insufficient_quota', message: expect.stringContaining('spend limit') });
    const rows = await store.db.select().from(usageRecords).where(eq(usageRecords.projectId, p.projectId));
    expect(rows).toHaveLength(0);
    expect(await invariants(p.projectId)).toMatchObject({ reserved: 0n });
  });

  it('lets exactly the covered share of concurrent reservations through', async () => {
    const p = await setup('5');
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => reserve(store.db, reservation(p, parseMoney('0.5')))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const inv = await invariants(p.projectId);
    expect(inv.reserved).toBe(parseMoney('5'));
    expect(inv.open).toBe(inv.reserved);
  });

  it('keeps balance = ledger sum ≥ 0 and reserved = open reservations over any sequence of operations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('reserve' as const), cost: fc.integer({ min: 1, max: 3_000_000 }) }),
            fc.record({ op: fc.constant('settle' as const), pick: fc.nat(), cost: fc.integer({ min: 0, max: 4_000_000 }) }),
            fc.record({ op: fc.constant('credit' as const), amount: fc.integer({ min: 1, max: 1_000_000 }) }),
          ),
          { maxLength: 25 },
        ),
        async (ops) => {
          const p = await setup('0.00001');
          const open: string[] = [];
          for (const o of ops) {
            if (o.op === 'reserve') {
              const id = newId('req');
              try {
                await reserve(store.db, reservation(p, BigInt(o.cost), id));
                open.push(id);
              } catch (e) {
                expect(e).toMatchObject({ status: 402 });
              }
            } else if (o.op === 'settle' && open.length > 0) {
              const [id] = open.splice(o.pick % open.length, 1);
              await settle(store.db, okSettlement(id!, BigInt(o.cost)));
            } else if (o.op === 'credit') {
              await changeBalance(store.db, { projectId: p.projectId, amount: BigInt(o.amount), kind: 'credit', reason: 'prop', actor: 'test' });
            }
            const inv = await invariants(p.projectId);
            expect(inv.balance).toBe(inv.ledger);
            expect(inv.balance - inv.reserved >= 0n).toBe(true);
            expect(inv.reserved).toBe(inv.open);
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('recovery settles a dead replica’s reservations at the prompt price, exactly once', async () => {
    const p = await setup('1');
    const id = newId('req');
    await reserve(store.db, { ...reservation(p, parseMoney('0.5'), id), replicaId: 'rep_dead' });
    const rule = { olderThan: new Date(Date.now() - 3_600_000), deadBefore: new Date() };
    expect(await recoverStaleReservations(store.db, rule)).toBeGreaterThanOrEqual(1);
    expect(await recoverStaleReservations(store.db, rule)).toBe(0);
    const [row] = await store.db.select().from(usageRecords).where(eq(usageRecords.id, id));
    // 10 prompt tokens at 1 per 1M tokens.
    expect(row).toMatchObject({ status: 'aborted', errorCode: 'recovered', cost: formatMoney(10n * prices.input).padEnd(14, '0') });
    expect(await invariants(p.projectId)).toMatchObject({ reserved: 0n, balance: parseMoney('1') - 10n * prices.input });
  });

  it('recovery settles a live replica’s reservation once it is older than the rule, and leaves younger ones', async () => {
    const p = await setup('1');
    await store.db.insert(replicas).values({ id: 'rep_alive', hostname: 'test' }).onConflictDoUpdate({ target: replicas.id, set: { heartbeatAt: sql`now()` } });
    const [old, young] = [newId('req'), newId('req')];
    await reserve(store.db, { ...reservation(p, parseMoney('0.2'), old), replicaId: 'rep_alive' });
    await reserve(store.db, { ...reservation(p, parseMoney('0.2'), young), replicaId: 'rep_alive' });
    await store.db.update(usageRecords).set({ createdAt: sql`now() - interval '1 hour'` }).where(eq(usageRecords.id, old));
    const rule = { olderThan: new Date(Date.now() - 900_000), deadBefore: new Date(Date.now() - 30_000) };
    expect(await recoverStaleReservations(store.db, rule)).toBe(1);
    const status = async (id: string) => (await store.db.select().from(usageRecords).where(eq(usageRecords.id, id)))[0]?.status;
    expect([await status(old), await status(young)]).toEqual(['aborted', 'reserved']);
  });

  /** A Metering of its own replica with one open live request on a fresh project. */
  async function openRequest(replicaId: string) {
    const p = await setup('10');
    const metering = new Metering(store.db, store.bus, replicaId, silentLogger);
    const model = { id: 'm', prices, priceText, maxOutputTokens: 100 } as CatalogueModel;
    const key = { id: p.apiKeyId, projectId: p.projectId, mode: 'live', hasSpendLimit: false } as RequestContext['key'];
    const ctx: RequestContext = { requestId: newId('req'), key, client: detachedClient };
    const meter = await metering.open(ctx, model, 'chat', { promptTokens: 10, maxCompletionTokens: 100 }, false);
    const row = async () => (await store.db.select().from(usageRecords).where(eq(usageRecords.id, ctx.requestId)))[0];
    return { metering, meter, row };
  }

  it('drain waits for an open request to close its meter and writes its settlement before returning', async () => {
    const { metering, meter, row } = await openRequest('rep_drain');
    let drained = false;
    const draining = metering.drain(10_000).then(() => (drained = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    const usage = { promptTokens: 10, completionTokens: 5, cachedTokens: 0, reasoningTokens: 0 };
    meter.close({ status: 'ok', httpStatus: 200, usage });
    await draining;
    const settled = await row();
    expect(settled?.status).toBe('ok');
    // 10 prompt tokens at 1 per 1M and 5 completion tokens at 2 per 1M: 0.00001 + 0.00001.
    expect(parseMoney(String(settled?.cost))).toBe(parseMoney('0.00002'));
    await metering.escrow.releaseAll();
  });

  it('drain gives up on a request that never closes after its grace, leaving the row for recovery', async () => {
    const { metering, row } = await openRequest('rep_drain2');
    await metering.drain(20);
    expect((await row())?.status).toBe('reserved');
    await metering.escrow.releaseAll();
  });

  it('sends a lone reservation at once, the rest of its turn together, and waits for company while busy; a bad row fails alone', async () => {
    const p = await setup('10');
    const writer = new ReservationWriter(store.db);
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    const lone = writer.write(reservation(p, 1n), null);
    // Sent before this turn ends: nothing was in flight, so it did not wait for company.
    expect(writer.statements).toBe(1);
    await lone;
    await nextTurn();
    const good = Array.from({ length: 40 }, () => reservation(p, 1n));
    const bad = { ...reservation(p, 1n), projectId: 'prj_missing' };
    const writes = [...good.slice(0, 20), bad, ...good.slice(20)].map((r) => writer.write(r, null));
    // The first of the turn goes alone; the other 40 wait for the turn's end, together.
    expect(writer.statements).toBe(2);
    const results = await Promise.allSettled(writes);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results[20]!.status).toBe('rejected');
    // One INSERT for the batch, then each of its 40 rows alone after the bad one failed it.
    expect(writer.statements).toBe(2 + 1 + 40);
    // Busy (the last turn asked for 41 rows): the next row waits for its turn's company...
    const afterBusy = writer.write(reservation(p, 1n), null);
    expect(writer.statements).toBe(43);
    await afterBusy;
    expect(writer.statements).toBe(44);
    await nextTurn();
    // ...which was nobody, so the writer is quiet again and the next goes at once.
    const quiet = writer.write(reservation(p, 1n), null);
    expect(writer.statements).toBe(45);
    await quiet;
    const rows = await store.db.select({ id: usageRecords.id, status: usageRecords.status }).from(usageRecords).where(eq(usageRecords.projectId, p.projectId));
    expect(rows).toHaveLength(43);
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(good.map((r) => r.requestId)));
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['reserved']));
  });
});
