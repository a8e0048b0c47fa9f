// What the database alone costs a request on this machine, measured from the
// gateway's core: the floor under "added latency" for a gateway that writes
// one committed row before it answers. Statements one at a time on one
// connection: `SELECT 1` (the round trip), a one-row INSERT into a bare
// table committed as the reservation's is (round trip + WAL flush), the same
// INSERT with synchronous_commit off (shows what the flush alone costs; the
// gateway never runs that way), and the gateway's own reservation INSERT on
// a freshly migrated database (its row, indexes and foreign keys).
//
// Run as a child pinned to the gateway's CPU:
//   node --import tsx test/bench/db-round-trips.ts <database url>   → one JSON line
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import postgres from 'postgres';
import { insertReservation } from '../../src/core/billing/reserve.js';
import { LocalEventBus } from '../../src/core/events/event-bus.js';
import { createApiKey, createProject } from '../../src/core/projects/project-admin.js';
import { openDatabase } from '../../src/db/open-database.js';
import { freeReservation } from '../helpers/churn.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { percentiles } from './load.js';
import { nodeCommand, REPO_ROOT } from './processes.js';

export interface Percentiles {
  p50Ms: number;
  p99Ms: number;
}

export interface DbRoundTrips {
  samples: number;
  select1: Percentiles;
  insertCommitted: Percentiles;
  insertUnflushed: Percentiles;
  /** The gateway's reservation row (usage_records, its indexes and foreign keys), committed. */
  reservationInsert: Percentiles;
}

const SAMPLES = 2_000;
const WARMUP = 200;

async function timed(run: (i: number) => Promise<unknown>): Promise<Percentiles> {
  for (let i = 0; i < WARMUP; i++) await run(-1 - i);
  const ms: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = process.hrtime.bigint();
    await run(i);
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const { p50, p99 } = percentiles(ms);
  return { p50Ms: p50, p99Ms: p99 };
}

async function measure(url: string): Promise<DbRoundTrips> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const table = sql(`bench_round_trip_${process.pid}`);
  try {
    // A logged table: temporary and unlogged ones skip the WAL, and the flush is the point.
    await sql`CREATE TABLE ${table} (id text PRIMARY KEY, project_id text NOT NULL, cost numeric NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`;
    let n = 0;
    const insert = () => sql`INSERT INTO ${table} (id, project_id, cost) VALUES (${`req_${n++}`}, 'prj_bench', 0.000123)`;
    const select1 = await timed(() => sql`SELECT 1`);
    const insertCommitted = await timed(insert);
    await sql`SET synchronous_commit = off`;
    const insertUnflushed = await timed(insert);
    return { samples: SAMPLES, select1, insertCommitted, insertUnflushed, reservationInsert: await measureReservationInsert(url) };
  } finally {
    await sql`DROP TABLE IF EXISTS ${table}`.catch(() => {});
    await sql.end();
  }
}

async function measureReservationInsert(base: string): Promise<Percentiles> {
  const fresh = await createTestDatabase(base);
  const database = await openDatabase({ databaseUrl: fresh.url, dataDir: 'memory://', migrationsFolder: join(REPO_ROOT, 'drizzle'), poolSize: 1 });
  try {
    const { db } = database;
    const project = await createProject(db, { name: 'round trips', initialBalance: '1', actor: 'bench' });
    const { apiKey } = await createApiKey(db, new LocalEventBus(), { projectId: project.id, mode: 'live' });
    // The same statement whatever the row's mode or price.
    return await timed(() => insertReservation(db, freeReservation(project.id, apiKey.id), null));
  } finally {
    await database.close();
    await fresh.drop();
  }
}

/** Runs the probe in a child on `cpu` (where the gateway runs), so the figures are the gateway's view. */
export function measureDbRoundTrips(url: string, cpu: number): Promise<DbRoundTrips> {
  const script = fileURLToPath(import.meta.url);
  const [command, args] = nodeCommand(['--import', 'tsx', script, url], cpu);
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`database round-trip probe failed: ${err.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as DbRoundTrips);
      } catch (e) {
        reject(new Error(`database round-trip probe printed no result: ${String(e)}\n${stdout}${stderr}`));
      }
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.argv[2];
  if (!url) throw new Error('usage: db-round-trips.ts <database url>');
  process.stdout.write(`${JSON.stringify(await measure(url))}\n`);
}
