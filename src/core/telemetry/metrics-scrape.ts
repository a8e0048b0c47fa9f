import { sql } from 'drizzle-orm';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../../db/open-database.js';
import type { PoolStats } from '../../db/pool-stats.js';
import { rowsOf } from '../../db/rows.js';
import type { Metering } from '../billing/metering.js';
import type { HealthState, HealthTracker } from '../health/health-tracker.js';
import { parseMoney } from '../money.js';
import type { KeyLabels } from './metrics-key-labels.js';

// The families that describe a state, read when Prometheus scrapes rather
// than kept up to date on every request.

export interface ScrapeDeps {
  db: Db;
  /** postgres.js' pool: its size and, read at scrape time, what it holds; undefined on PGlite (one in-process connection, no pool). */
  pool: { max: number; stats: (() => PoolStats) | undefined } | undefined;
  replicaId: string;
  metering: Metering;
  health: HealthTracker;
  keyLabels: KeyLabels;
}

/** A scrape never waits longer than this for the database: the gauges that need it are left out instead. */
const PROBE_TIMEOUT_MS = 2_000;
const HEALTH_STATES: readonly HealthState[] = ['healthy', 'degraded', 'cooling_down', 'down', 'disabled'];

interface Probe {
  seconds: number;
  leases: number;
  held: number;
}

/** One round trip per scrape: what this replica holds in leases, timed (pool wait included). */
async function probe(deps: ScrapeDeps): Promise<Probe | undefined> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), PROBE_TIMEOUT_MS);
  });
  const query = deps.db
    .execute(sql`SELECT count(*)::int AS leases, coalesce(sum(amount), 0)::text AS held FROM leases WHERE replica_id = ${deps.replicaId} AND amount > 0`)
    .then((result) => {
      const [row] = rowsOf<{ leases: number; held: string }>(result);
      return { seconds: (performance.now() - started) / 1000, leases: Number(row?.leases ?? 0), held: Number(parseMoney(row?.held ?? '0')) / 1e12 };
    })
    .catch(() => undefined);
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function scrapeGauges(registry: Registry, deps: ScrapeDeps): void {
  const registers = [registry];
  // The gauges below that need the database share one probe per scrape.
  let current: Promise<Probe | undefined> | undefined;
  const probed = (): Promise<Probe | undefined> => {
    if (!current) {
      current = probe(deps);
      // Prometheus collects every family of one scrape together; the next scrape probes again.
      void current.finally(() => setTimeout(() => (current = undefined), 0).unref());
    }
    return current;
  };

  new Gauge({
    name: 'gateway_upstream_circuit_state',
    help: 'Circuit of each upstream key this replica has called: 0 closed, 1 half-open (a probe may go), 2 open.',
    labelNames: ['provider', 'key_id', 'key_label'],
    registers,
    collect() {
      this.reset();
      const now = Date.now();
      for (const k of deps.health.snapshots()) {
        const until = k.circuitOpenUntil === null ? 0 : Date.parse(k.circuitOpenUntil);
        this.set({ provider: k.provider, key_id: k.upstreamKeyId, key_label: deps.keyLabels.of(k.upstreamKeyId) }, until === 0 ? 0 : until > now ? 2 : 1);
      }
    },
  });
  new Gauge({
    name: 'gateway_upstream_key_state',
    help: 'Health state of each upstream key this replica has called: 1 for its current state, 0 for the others.',
    labelNames: ['provider', 'key_id', 'key_label', 'state'],
    registers,
    collect() {
      this.reset();
      for (const k of deps.health.snapshots()) {
        const labels = { provider: k.provider, key_id: k.upstreamKeyId, key_label: deps.keyLabels.of(k.upstreamKeyId) };
        for (const state of HEALTH_STATES) this.set({ ...labels, state }, k.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'gateway_open_reservations',
    help: 'Requests holding a reservation whose meter has not closed yet (in flight on this replica).',
    registers,
    collect() {
      this.set(deps.metering.openCount);
    },
  });
  new Gauge({
    name: 'gateway_settlement_queue_depth',
    help: 'Closed requests waiting for their settlement batch.',
    registers,
    collect() {
      this.set(deps.metering.settlementQueue.depth);
    },
  });
  new Gauge({
    name: 'gateway_settlement_queue_lag_seconds',
    help: 'How long the oldest waiting settlement has waited (0 when none waits).',
    registers,
    collect() {
      const { oldestQueuedAt } = deps.metering.settlementQueue;
      this.set(oldestQueuedAt === undefined ? 0 : Math.max(0, Date.now() - oldestQueuedAt) / 1000);
    },
  });
  new Gauge({
    name: 'gateway_escrow_leases',
    help: "Leases this replica holds on projects' balances.",
    registers,
    async collect() {
      this.reset();
      const p = await probed();
      if (p) this.set(p.leases);
    },
  });
  new Gauge({
    name: 'gateway_escrow_lease_held',
    help: 'Money this replica holds in leases, in the deployment currency (reserved from balances, in use or free).',
    registers,
    async collect() {
      this.reset();
      const p = await probed();
      if (p) this.set(p.held);
    },
  });
  new Gauge({
    name: 'gateway_database_up',
    help: "1 when the scrape's database probe answered within 2 s.",
    registers,
    async collect() {
      this.set((await probed()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'gateway_database_probe_seconds',
    help: "The scrape's database probe: waiting for a pooled connection plus one round trip.",
    registers,
    async collect() {
      this.reset();
      const p = await probed();
      if (p) this.set(p.seconds);
    },
  });
  if (deps.pool) poolFamilies(deps.pool, registers);
}

const CONNECTION_STATES = ['idle', 'busy', 'full', 'reserved', 'connecting'] as const;

function poolFamilies({ max, stats }: NonNullable<ScrapeDeps['pool']>, registers: Registry[]): void {
  new Gauge({
    name: 'gateway_database_pool_max',
    help: 'Connections the Postgres pool may open.',
    registers,
    collect() {
      this.set(max);
    },
  });
  if (!stats) return;
  new Gauge({
    name: 'gateway_database_pool_connections',
    help: 'Postgres pool connections by state: idle, busy (running queries, room for more), full (pipeline full), reserved (held by a transaction), connecting.',
    labelNames: ['state'],
    registers,
    collect() {
      const now = stats();
      for (const state of CONNECTION_STATES) this.set({ state }, now[state]);
    },
  });
  new Gauge({
    name: 'gateway_database_pool_queued_queries',
    help: 'Queries waiting for a Postgres connection (every connection reserved, full or connecting).',
    registers,
    collect() {
      this.set(stats().queued);
    },
  });
  new Counter({
    name: 'gateway_database_pool_waits_total',
    help: 'Queries that waited for a Postgres connection.',
    registers,
    collect() {
      this.reset();
      this.inc(stats().waits);
    },
  });
  new Counter({
    name: 'gateway_database_pool_wait_seconds_total',
    help: 'Time queries spent waiting for a Postgres connection, in all.',
    registers,
    collect() {
      this.reset();
      this.inc(stats().waitSeconds);
    },
  });
}
