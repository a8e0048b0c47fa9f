import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Escrow } from '../../src/core/billing/escrow.js';
import type { SettleResult } from '../../src/core/billing/settle.js';
import { createProject } from '../../src/core/projects/project-admin.js';
import type { Database } from '../../src/db/open-database.js';
import { leases, projects } from '../../src/db/schema.js';
import { openTestDatabase } from '../helpers/test-database.js';

// Lease sizes worked out by hand from the escrow's rule: a quarter of what
// the project has available, in whole requests of the asking cost, at most
// 1,024 of them, and none at all below 4. Costs are pico-units (1e-12).
const MILLI = 1_000_000_000n; // 0.001

let handle: { database: Database; close(): Promise<void> };
let db: Database['db'];
beforeAll(async () => {
  handle = await openTestDatabase();
  db = handle.database.db;
});
afterAll(async () => handle?.close());
afterEach(() => vi.useRealTimers());

/** numeric(30,12) as text, without its trailing zeros: '0.250000000000' → '0.25'. */
const plain = (numeric: string) => (numeric.includes('.') ? numeric.replace(/0+$/, '').replace(/\.$/, '') : numeric);

async function project(balance: string): Promise<string> {
  return (await createProject(db, { name: 'escrow', initialBalance: balance, actor: 'test' })).id;
}

async function state(projectId: string) {
  const [p] = await db.select().from(projects).where(eq(projects.id, projectId));
  const rows = await db.select().from(leases).where(eq(leases.projectId, projectId));
  return { balance: plain(p!.balance), reserved: plain(p!.reserved), leases: rows.map((l) => ({ id: l.id, replicaId: l.replicaId, amount: plain(l.amount) })) };
}

const settledResult = (projectId: string, leaseId: string | null, reserved: bigint, charged: bigint): SettleResult => ({
  requestId: 'req_x',
  projectId,
  apiKeyId: 'key_x',
  leaseId,
  reserved,
  charged,
  projectBalance: 0n,
  projectReserved: 0n,
  createdAt: new Date(),
  test: false,
  stream: false,
  modelId: 'm',
});

describe('escrow leases', () => {
  it('leases a quarter of the available balance in whole requests and records it on the project and a lease row', async () => {
    const p = await project('1');
    const escrow = new Escrow(db, 'rep_a');
    const leaseId = await escrow.reserve(p, MILLI);
    expect(leaseId).toMatch(/^lse_/);
    // 1 / 4 = 0.25: 250 requests of 0.001.
    expect(await state(p)).toEqual({ balance: '1', reserved: '0.25', leases: [{ id: leaseId, replicaId: 'rep_a', amount: '0.25' }] });
  });

  it('rounds the quarter down to whole requests', async () => {
    const p = await project('1');
    // 0.25 / 0.0003 = 833.3: 833 requests, 0.2499.
    await new Escrow(db, 'rep_a').reserve(p, 300_000_000n);
    expect((await state(p)).reserved).toBe('0.2499');
  });

  it('leases at most 1,024 requests’ worth', async () => {
    const p = await project('100');
    await new Escrow(db, 'rep_a').reserve(p, MILLI);
    // A quarter would be 25,000 requests; 1,024 × 0.001.
    expect((await state(p)).reserved).toBe('1.024');
  });

  it('takes a lease of exactly 4 requests, and none when a quarter covers fewer', async () => {
    const four = await project('0.016');
    const escrow = new Escrow(db, 'rep_a');
    expect(await escrow.reserve(four, MILLI)).toMatch(/^lse_/);
    expect((await state(four)).reserved).toBe('0.004');
    const three = await project('0.0159');
    // 0.0159 / 4 = 0.003975: 3 requests, below the minimum of 4.
    expect(await escrow.reserve(three, MILLI)).toBeUndefined();
    expect(await state(three)).toEqual({ balance: '0.0159', reserved: '0', leases: [] });
  });

  it('takes nothing from a project that is archived or does not exist', async () => {
    const p = await project('10');
    await db.update(projects).set({ status: 'archived' }).where(eq(projects.id, p));
    const escrow = new Escrow(db, 'rep_a');
    expect(await escrow.reserve(p, MILLI)).toBeUndefined();
    expect(await escrow.reserve('prj_missing', MILLI)).toBeUndefined();
    expect(await state(p)).toMatchObject({ reserved: '0', leases: [] });
  });

  it('serves every request the lease covers from memory, the last one included, then grows the same lease', async () => {
    const p = await project('0.016');
    const escrow = new Escrow(db, 'rep_a');
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await escrow.reserve(p, MILLI));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^lse_/);
    expect((await state(p)).reserved).toBe('0.004');

    const big = await project('1');
    const id = await escrow.reserve(big, 100_000_000_000n); // 0.1: a lease of 2 requests is refused, so...
    expect(id).toBeUndefined();
    const small = await escrow.reserve(big, 10_000_000_000n); // 0.01: 25 requests, 0.25
    for (let i = 0; i < 24; i++) await escrow.reserve(big, 10_000_000_000n);
    expect((await state(big)).reserved).toBe('0.25');
    // The 26th grows the lease it has: (1 − 0.25) / 4 = 0.1875, 18 requests, 0.18.
    expect(await escrow.reserve(big, 10_000_000_000n)).toBe(small);
    expect(await state(big)).toEqual({ balance: '1', reserved: '0.43', leases: [{ id: small, replicaId: 'rep_a', amount: '0.43' }] });
  });

  it('lets concurrent requests share one growth of the lease', async () => {
    const p = await project('1');
    const escrow = new Escrow(db, 'rep_a');
    const ids = await Promise.all(Array.from({ length: 5 }, () => escrow.reserve(p, MILLI)));
    expect(new Set(ids).size).toBe(1);
    expect((await state(p)).reserved).toBe('0.25');
  });

  it('near exhaustion returns what it holds to the project and leaves the request to the row', async () => {
    const p = await project('0.016');
    const escrow = new Escrow(db, 'rep_a');
    const leaseId = await escrow.reserve(p, MILLI);
    // 0.003 left in the lease; 0.012 available cannot lease 4 more of 0.003.
    expect(await escrow.reserve(p, 3_000_000_000n + 1n)).toBeUndefined();
    expect(await state(p)).toEqual({ balance: '0.016', reserved: '0.001', leases: [{ id: leaseId, replicaId: 'rep_a', amount: '0.001' }] });
  });

  it('gives back the unused part of a lease on release, once', async () => {
    const p = await project('1');
    const escrow = new Escrow(db, 'rep_a');
    const leaseId = await escrow.reserve(p, MILLI);
    await escrow.reserve(p, MILLI);
    await escrow.release(p);
    // 0.25 leased, 0.002 in use.
    expect(await state(p)).toEqual({ balance: '1', reserved: '0.002', leases: [{ id: leaseId, replicaId: 'rep_a', amount: '0.002' }] });
    await escrow.release(p);
    expect((await state(p)).reserved).toBe('0.002');
    await escrow.release('prj_never_leased');
  });

  it('keeps what it holds when giving it back fails, and gives it back on the next try', async () => {
    const p = await project('1');
    const escrow = new Escrow(db, 'rep_a');
    await escrow.reserve(p, MILLI);
    const spy = vi.spyOn(db, 'transaction').mockRejectedValueOnce(new Error('database gone'));
    await expect(escrow.release(p)).rejects.toThrow('database gone');
    spy.mockRestore();
    expect((await state(p)).reserved).toBe('0.25');
    await escrow.release(p);
    expect((await state(p)).reserved).toBe('0.001');
  });

  it('refunds a reservation to the lease it came from, and only to that lease', async () => {
    const p = await project('1');
    const escrow = new Escrow(db, 'rep_a');
    const leaseId = (await escrow.reserve(p, MILLI))!;
    await escrow.reserve(p, MILLI);
    escrow.refund(p, 'lse_other', MILLI);
    escrow.refund('prj_other', leaseId, MILLI);
    escrow.refund(p, leaseId, MILLI);
    await escrow.release(p);
    expect((await state(p)).reserved).toBe('0.001');
  });

  it('after a settlement frees the unused part of each lease-backed reservation', async () => {
    const p = await project('1');
    const escrow = new Escrow(db, 'rep_a');
    const leaseId = (await escrow.reserve(p, MILLI))!;
    escrow.settled([
      settledResult(p, leaseId, MILLI, 400_000_000n), // 0.0006 back
      settledResult(p, null, MILLI, 0n), // reserved on the row: not the lease's
      settledResult(p, 'lse_other', MILLI, 0n),
      settledResult('prj_other', leaseId, MILLI, 0n),
    ]);
    await escrow.release(p);
    expect((await state(p)).reserved).toBe('0.0004');
  });

  it('returns leases idle for 10 s, not younger ones', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const [idle, busy] = [await project('1'), await project('1')];
    const escrow = new Escrow(db, 'rep_a');
    await escrow.reserve(idle, MILLI);
    vi.setSystemTime(1_000_001);
    await escrow.reserve(busy, MILLI);
    await escrow.releaseIdle(1_009_999);
    expect([(await state(idle)).reserved, (await state(busy)).reserved]).toEqual(['0.25', '0.25']);
    await escrow.releaseIdle(1_010_000);
    expect([(await state(idle)).reserved, (await state(busy)).reserved]).toEqual(['0.001', '0.25']);
    vi.setSystemTime(1_010_001);
    await escrow.releaseIdle();
    expect((await state(busy)).reserved).toBe('0.001');
  });

  it('on shutdown returns everything, drops its empty lease rows and starts a new lease afterwards', async () => {
    const [a, b] = [await project('1'), await project('1')];
    const escrow = new Escrow(db, 'rep_shutdown');
    const other = new Escrow(db, 'rep_other');
    const first = await escrow.reserve(a, MILLI);
    const bLease = (await escrow.reserve(b, MILLI))!;
    const kept = await other.reserve(b, MILLI);
    await other.release(b);
    // b's one request gave its money back (its row could not be written): the lease is unused.
    escrow.refund(b, bLease, MILLI);
    await escrow.releaseAll();
    // a still has its request's 0.001 in use: its lease row stays; b's is empty and goes. rep_other's row is not ours to drop.
    expect(await state(a)).toEqual({ balance: '1', reserved: '0.001', leases: [{ id: first, replicaId: 'rep_shutdown', amount: '0.001' }] });
    expect(await state(b)).toEqual({ balance: '1', reserved: '0.001', leases: [{ id: kept, replicaId: 'rep_other', amount: '0.001' }] });
    const next = await escrow.reserve(a, MILLI);
    expect(next).toMatch(/^lse_/);
    expect(next).not.toBe(first);
  });
});
