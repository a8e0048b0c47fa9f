/**
 * The gateway's database for a benchmark: a fresh PGlite folder or a fresh
 * Postgres database, set up through the same core functions the admin API
 * uses (one project with a large balance, a `pk_live_` key, the bench models
 * routed to the mock upstreams), then closed so the gateway can open it.
 * After the run, the accounting is read back to check nothing was left open.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { upsertModel } from '../../src/core/catalogue/upsert-model.js';
import { LocalEventBus } from '../../src/core/events/event-bus.js';
import { createApiKey, createProject, setModelPermissions } from '../../src/core/projects/project-admin.js';
import { addUpstreamKey } from '../../src/core/routing/upstream-key-admin.js';
import { providerInfos } from '../../src/providers/registry.js';
import { SecretBox } from '../../src/core/secrets/secret-box.js';
import { openDatabase } from '../../src/db/open-database.js';
import { ledgerEntries, projects, usageRecords } from '../../src/db/schema.js';
import { REPO_ROOT } from './processes.js';

const MIGRATIONS = join(REPO_ROOT, 'drizzle');

type Upstream = 'fast' | 'slow' | 'drip';

/** The catalogue model a client names for each mock upstream. */
export const BENCH_MODELS: Record<Upstream, string> = { fast: 'bench-model', slow: 'bench-model-slow', drip: 'bench-model-drip' };
const UPSTREAM_MODELS: Record<Upstream, string> = { fast: 'bench-upstream', slow: 'bench-upstream-slow', drip: 'bench-upstream-drip' };
const BALANCE = '1000000000';

export type DbKind = 'pglite' | 'postgres';

export interface BenchDatabase {
  kind: DbKind;
  /** The gateway's environment for this database. */
  env: Record<string, string>;
  apiKey: string;
  projectId: string;
  /** Usage rows and ledger entries as the gateway left them. */
  accounting(): Promise<Accounting>;
  /** Postgres only: the database's transaction and row counters (pg_stat_database, pg_stat_user_tables). */
  stats(): Promise<DbStats | undefined>;
  /**
   * Postgres only: samples pg_stat_activity every 50 ms until stopped, to
   * show what the gateway's sessions wait for (row locks on a hot row, I/O,
   * the client).
   */
  watchActivity(): { stop(): Promise<Activity | undefined> };
  /** Deletes the data folder or drops the database. */
  drop(): Promise<void>;
}

export interface Activity {
  samples: number;
  /** Average sessions running a statement. */
  active: number;
  /** Average sessions inside a transaction, between statements (waiting on the gateway). */
  idleInTransaction: number;
  /** Average sessions waiting for a lock. */
  lockWaiters: number;
  /** Share of samples in which at least one session waited for a lock. */
  lockWaitShare: number;
  /** The statements seen waiting for locks, most frequent first (first 100 characters). */
  lockWaits: Array<{ query: string; waitEvent: string; samples: number }>;
}

export interface DbStats {
  commits: number;
  rollbacks: number;
  /** Per table: rows inserted, updated (of which HOT: no index touched), deleted. */
  tables: Record<string, { ins: number; upd: number; hot: number; del: number }>;
}

/** b − a, per counter. */
export function statsDelta(a: DbStats, b: DbStats): DbStats {
  const tables: DbStats['tables'] = {};
  for (const [name, t] of Object.entries(b.tables)) {
    const before = a.tables[name] ?? { ins: 0, upd: 0, hot: 0, del: 0 };
    const d = { ins: t.ins - before.ins, upd: t.upd - before.upd, hot: t.hot - before.hot, del: t.del - before.del };
    if (d.ins || d.upd || d.del) tables[name] = d;
  }
  return { commits: b.commits - a.commits, rollbacks: b.rollbacks - a.rollbacks, tables };
}

export interface Accounting {
  usageRows: number;
  byStatus: Record<string, number>;
  /** Rows still `reserved` after the gateway stopped: should be 0. */
  unsettled: number;
  /** A few of them, to look into. */
  unsettledSample: Array<{ id: string; createdAt: string; stream: boolean }>;
  ledgerEntries: number;
  balance: string;
  reserved: string;
}

export interface SetupOptions {
  kind: DbKind;
  /** Base Postgres URL; a database `gw_bench_<random>` is created beside it. */
  databaseUrl?: string | undefined;
  /** Base URLs of the mock upstreams. */
  upstreams: Record<Upstream, string>;
}

export async function setupDatabase(options: SetupOptions): Promise<BenchDatabase> {
  const encryptionKey = randomBytes(32).toString('hex');
  const env: Record<string, string> = {
    ENCRYPTION_KEY: encryptionKey,
    ADMIN_TOKEN: `gwa_bench_${randomBytes(16).toString('hex')}`,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    // Production denies private upstream addresses; the mocks are on loopback.
    UPSTREAM_HOSTS_ALLOW: '127.0.0.1',
  };
  let dropStorage: () => Promise<void>;
  let stats: () => Promise<DbStats | undefined> = async () => undefined;
  let connect: () => Promise<Awaited<ReturnType<typeof openDatabase>>>;

  if (options.kind === 'postgres') {
    if (!options.databaseUrl) throw new Error('postgres benchmark needs DATABASE_URL');
    const name = `gw_bench_${randomBytes(6).toString('hex')}`;
    const admin = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(options.databaseUrl);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    env.DATA_DIR = mkdtempSync(join(tmpdir(), 'gw-bench-'));
    connect = () => openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR!, migrationsFolder: MIGRATIONS, poolSize: 2 });
    stats = async () => {
      const q = postgres(env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      try {
        // Counters of other backends reach the views when they flush (at the latest when they exit).
        const [db] = await q<Array<{ c: string; r: string }>>`select xact_commit::text as c, xact_rollback::text as r from pg_stat_database where datname = current_database()`;
        const rows = await q<Array<{ relname: string; ins: string; upd: string; hot: string; del: string }>>`
          select relname, n_tup_ins::text as ins, n_tup_upd::text as upd, n_tup_hot_upd::text as hot, n_tup_del::text as del
          from pg_stat_user_tables`;
        return {
          commits: Number(db?.c ?? 0),
          rollbacks: Number(db?.r ?? 0),
          tables: Object.fromEntries(
            rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd), hot: Number(r.hot), del: Number(r.del) }]),
          ),
        };
      } finally {
        await q.end();
      }
    };
    dropStorage = async () => {
      const a = postgres(options.databaseUrl!, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
      rmSync(env.DATA_DIR!, { recursive: true, force: true });
    };
  } else {
    env.DATA_DIR = mkdtempSync(join(tmpdir(), 'gw-bench-'));
    // main.ts passes DATABASE_URL through as it finds it: make sure it is empty.
    env.DATABASE_URL = '';
    connect = () => openDatabase({ dataDir: env.DATA_DIR!, migrationsFolder: MIGRATIONS });
    dropStorage = async () => rmSync(env.DATA_DIR!, { recursive: true, force: true });
  }

  let projectId: string;
  let apiKey: string;
  const database = await connect();
  try {
    const db = database.db;
    if (process.env.BENCH_PG_SQL && options.kind === 'postgres') await db.execute(sql.raw(process.env.BENCH_PG_SQL));
    const bus = new LocalEventBus();
    const secrets = SecretBox.fromString(encryptionKey);
    const project = await createProject(db, { name: 'bench', initialBalance: BALANCE, actor: 'bench' });
    await setModelPermissions(db, bus, project.id, ['*']);
    const key = await createApiKey(db, bus, { projectId: project.id, mode: 'live', name: 'bench' });
    const model = { kind: 'chat' as const, ownedBy: 'bench', inputPrice: '0.15', outputPrice: '0.6', contextWindow: 128_000, maxOutputTokens: 4096 };
    // One model per mock, each routed to the openai-compatible provider through
    // an upstream key that serves only that model (keys are matched by model).
    for (const u of Object.keys(BENCH_MODELS) as Upstream[]) {
      await upsertModel(db, { id: BENCH_MODELS[u], ...model, routes: [{ provider: 'openai-compatible', upstreamModel: UPSTREAM_MODELS[u] }] });
      await addUpstreamKey(db, secrets, bus, providerInfos, {
        provider: 'openai-compatible',
        label: `bench mock (${u})`,
        secret: `sk-bench-${randomBytes(12).toString('hex')}`,
        baseUrl: `${options.upstreams[u]}/v1`,
        models: [UPSTREAM_MODELS[u]],
      });
    }
    projectId = project.id;
    apiKey = key.secret;
  } finally {
    await database.close();
  }

  return {
    kind: options.kind,
    env,
    apiKey,
    projectId,
    async accounting() {
      const d = await connect();
      try {
        const rows = await d.db.select({ status: usageRecords.status, n: count() }).from(usageRecords).groupBy(usageRecords.status);
        const byStatus = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
        const [ledger] = await d.db.select({ n: count() }).from(ledgerEntries).where(eq(ledgerEntries.projectId, projectId));
        const [p] = await d.db
          .select({ balance: sql<string>`${projects.balance}::text`, reserved: sql<string>`${projects.reserved}::text` })
          .from(projects)
          .where(eq(projects.id, projectId));
        const stuck = await d.db
          .select({ id: usageRecords.id, createdAt: usageRecords.createdAt, stream: usageRecords.stream })
          .from(usageRecords)
          .where(eq(usageRecords.status, 'reserved'))
          .limit(5);
        return {
          unsettledSample: stuck.map((r) => ({ id: r.id, createdAt: r.createdAt.toISOString(), stream: r.stream })),
          usageRows: rows.reduce((n, r) => n + Number(r.n), 0),
          byStatus,
          unsettled: byStatus.reserved ?? 0,
          ledgerEntries: Number(ledger?.n ?? 0),
          balance: p?.balance ?? '?',
          reserved: p?.reserved ?? '?',
        };
      } finally {
        await d.close();
      }
    },
    stats,
    watchActivity() {
      if (options.kind !== 'postgres') return { stop: async () => undefined };
      const q = postgres(env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      let samples = 0;
      let active = 0;
      let idleInTx = 0;
      let lockWaiters = 0;
      let withLockWait = 0;
      const waits = new Map<string, { query: string; waitEvent: string; samples: number }>();
      let running = true;
      const loop = (async () => {
        while (running) {
          try {
            const rows = await q<Array<{ state: string | null; wet: string | null; we: string | null; query: string }>>`
              select state, wait_event_type as wet, wait_event as we, left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 100) as query
              from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`;
            samples++;
            let locks = 0;
            for (const r of rows) {
              if (r.state === 'active') active++;
              if (r.state === 'idle in transaction') idleInTx++;
              if (r.wet === 'Lock') {
                locks++;
                const key = `${r.we}\u0000${r.query}`;
                const w = waits.get(key) ?? { query: r.query, waitEvent: r.we ?? '', samples: 0 };
                w.samples++;
                waits.set(key, w);
              }
            }
            lockWaiters += locks;
            if (locks > 0) withLockWait++;
          } catch {
            // a sample lost is fine
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      return {
        async stop() {
          running = false;
          await loop;
          await q.end();
          if (samples === 0) return undefined;
          return {
            samples,
            active: active / samples,
            idleInTransaction: idleInTx / samples,
            lockWaiters: lockWaiters / samples,
            lockWaitShare: withLockWait / samples,
            lockWaits: [...waits.values()].sort((a, b) => b.samples - a.samples).slice(0, 5),
          };
        },
      };
    },
    drop: dropStorage,
  };
}
