import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { rowsOf } from '../../db/rows.js';
import { leases, projects } from '../../db/schema.js';
import { newId } from '../../contract/ids.js';
import { formatMoney, parseMoney } from '../money.js';
import type { SettleResult } from './settle.js';

/** A lease covers at most this many requests of the cost that asked for it (thousands of open streams need a large one). */
const MAX_REQUESTS_PER_LEASE = 1024n;
/** A lease takes at most this share of what is still available (1/4)... */
const AVAILABLE_SHARE = 4n;
/** ...and is not taken at all when that share covers fewer requests: near exhaustion every request reserves on the row. */
const MIN_REQUESTS_PER_LEASE = 4n;
const IDLE_RELEASE_MS = 10_000;

interface Lease {
  id: string;
  projectId: string;
  /** What this replica may still reserve from the lease without asking the database. */
  free: bigint;
  lastUsed: number;
  persisted: boolean;
}

/**
 * Per-replica escrow ("leases") from project balances. Reserving a request
 * against a lease is a subtraction in memory; only taking or returning a
 * lease touches the project's row, so a busy project's requests do not
 * queue on one row lock. Money stays exact: a lease is counted in
 * projects.reserved while held, the sum of all leases and per-request
 * reservations never exceeds the balance, and every request still writes its
 * own `reserved` usage row before the upstream call.
 */
export class Escrow {
  readonly #leases = new Map<string, Lease>();
  readonly #growing = new Map<string, Promise<boolean>>();

  constructor(
    private readonly db: Db,
    private readonly replicaId: string,
  ) {}

  /**
   * Takes `cost` from this replica's lease for the project, growing the lease
   * if needed. Undefined means: reserve on the project row instead (near
   * exhaustion, or nothing left to lease).
   */
  async reserve(projectId: string, cost: bigint): Promise<string | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const lease = this.#leases.get(projectId);
      if (lease && lease.free >= cost) {
        lease.free -= cost;
        lease.lastUsed = Date.now();
        return lease.id;
      }
      if (!(await this.#grow(projectId, cost))) break;
    }
    // What this replica holds but cannot use must be visible to the per-request path.
    await this.release(projectId);
    return undefined;
  }

  /** A reservation that was taken from a lease but never used (its usage row could not be written). */
  refund(projectId: string, leaseId: string, cost: bigint): void {
    const lease = this.#leases.get(projectId);
    if (lease?.id === leaseId) lease.free += cost;
  }

  /** After a settlement commits: the unused part of each lease-backed reservation is free again. */
  settled(results: SettleResult[]): void {
    for (const r of results) {
      if (!r.leaseId) continue;
      const lease = this.#leases.get(r.projectId);
      if (lease?.id === r.leaseId) lease.free += r.reserved - r.charged;
    }
  }

  #grow(projectId: string, cost: bigint): Promise<boolean> {
    let pending = this.#growing.get(projectId);
    if (!pending) {
      pending = this.#take(projectId, cost).finally(() => this.#growing.delete(projectId));
      this.#growing.set(projectId, pending);
    }
    return pending;
  }

  async #take(projectId: string, cost: bigint): Promise<boolean> {
    const lease = this.#leases.get(projectId) ?? { id: newId('lse', 16), projectId, free: 0n, lastUsed: Date.now(), persisted: false };
    const amount = await this.db.transaction(async (tx) => {
      const [row] = rowsOf<{ available: string }>(
        await tx.execute(sql`SELECT (balance - reserved)::text AS available FROM projects WHERE id = ${projectId} AND status = 'active' FOR NO KEY UPDATE`),
      );
      if (!row) return 0n;
      const requests = parseMoney(row.available) / AVAILABLE_SHARE / cost;
      if (requests < MIN_REQUESTS_PER_LEASE) return 0n;
      const take = (requests < MAX_REQUESTS_PER_LEASE ? requests : MAX_REQUESTS_PER_LEASE) * cost;
      const text = formatMoney(take);
      await tx.update(projects).set({ reserved: sql`${projects.reserved} + ${text}::numeric` }).where(eq(projects.id, projectId));
      if (lease.persisted) {
        await tx.update(leases).set({ amount: sql`${leases.amount} + ${text}::numeric` }).where(eq(leases.id, lease.id));
      } else {
        await tx.insert(leases).values({ id: lease.id, projectId, replicaId: this.replicaId, amount: text });
      }
      return take;
    });
    if (amount === 0n) return false;
    lease.persisted = true;
    lease.free += amount;
    this.#leases.set(projectId, lease);
    return true;
  }

  /** Returns a lease's unused part to the project. */
  async release(projectId: string): Promise<void> {
    const lease = this.#leases.get(projectId);
    if (!lease || lease.free === 0n) return;
    const give = lease.free;
    lease.free = 0n;
    const text = formatMoney(give);
    try {
      await this.db.transaction(async (tx) => {
        await tx.update(projects).set({ reserved: sql`${projects.reserved} - ${text}::numeric` }).where(eq(projects.id, projectId));
        await tx.update(leases).set({ amount: sql`${leases.amount} - ${text}::numeric` }).where(eq(leases.id, lease.id));
      });
    } catch (e) {
      lease.free += give;
      throw e;
    }
  }

  /** Returns leases no request has used for a while, so other replicas can have the money. */
  async releaseIdle(now = Date.now()): Promise<void> {
    for (const lease of this.#leases.values()) {
      if (now - lease.lastUsed >= IDLE_RELEASE_MS) await this.release(lease.projectId);
    }
  }

  /** On shutdown, after every settlement is written: return everything and drop the lease rows. */
  async releaseAll(): Promise<void> {
    for (const lease of this.#leases.values()) await this.release(lease.projectId);
    await this.db.delete(leases).where(sql`${leases.replicaId} = ${this.replicaId} AND ${leases.amount} = 0`);
    this.#leases.clear();
  }
}
