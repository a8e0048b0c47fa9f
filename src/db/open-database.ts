import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { EmbeddedVacuum } from './embedded-vacuum.js';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** The handle inside a `db.transaction(...)` callback. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export type RawClient = { kind: 'pglite'; client: PGlite } | { kind: 'postgres'; client: postgres.Sql; url: string };

export interface Database {
  db: Db;
  raw: RawClient;
  /** One cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  /**
   * Runs `work` while holding the database-wide start-up lock, so replicas
   * starting together migrate and bootstrap one after the other.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; when absent PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data folder, or `memory://` for a throwaway database. */
  dataDir: string;
  migrationsFolder: string;
  poolSize?: number;
  /** PGlite only: how often the embedded database is vacuumed (it has no autovacuum). */
  vacuumEveryMs?: number;
  /** After each vacuum pass: its error if it failed, and how long it held the database. */
  onVacuum?: (err: unknown, ms: number) => void;
}

const EMBEDDED_VACUUM_EVERY_MS = 60_000;

// pg_advisory_lock key: 'gwstart' in ASCII.
const STARTUP_LOCK = 0x67777374617274n;

/** A session-level advisory lock on a connection of its own, released whatever `work` does. */
async function withStartupLock<T>(client: postgres.Sql, work: () => Promise<T>): Promise<T> {
  const session = await client.reserve();
  try {
    await session`select pg_advisory_lock(${STARTUP_LOCK.toString()}::bigint)`;
    try {
      return await work();
    } finally {
      await session`select pg_advisory_unlock(${STARTUP_LOCK.toString()}::bigint)`;
    }
  } finally {
    session.release();
  }
}

/** Opens PGlite or Postgres behind the same drizzle API and applies the committed migrations. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const client = postgres(options.databaseUrl, {
      // Two at least: the start-up lock holds one connection while migrations use another.
      max: Math.max(2, options.poolSize ?? 10),
      onnotice: () => {},
      // numeric stays a string so money never passes through a float.
      types: {},
      // While the server is down or restarting a query waits for its
      // connection's next attempt: postgres.js' default backoff grows to 20 s,
      // which held requests that long before their 503, and kept serving from
      // resuming for seconds after the server was back. A refused attempt
      // costs next to nothing, so retry within half a second.
      backoff: (retries: number) => Math.min(0.5, 0.05 * 2 ** retries),
      // A server that does not answer at all (a network cut) fails a request within seconds, not 30.
      connect_timeout: 5,
    });
    const db = drizzlePostgres(client, { schema }) as unknown as Db;
    const exclusive = <T>(work: () => Promise<T>) => withStartupLock(client, work);
    await exclusive(() => migratePostgres(drizzlePostgres(client), { migrationsFolder: options.migrationsFolder }));
    return {
      db,
      raw: { kind: 'postgres', client, url: options.databaseUrl },
      ping: async () => {
        await client`select 1`;
      },
      exclusive,
      close: () => client.end({ timeout: 5 }),
    };
  }
  // Loaded only here: a gateway on Postgres never holds PGlite's module or its drizzle driver.
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  const client = new PGlite(options.dataDir);
  await client.waitReady;
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  await migratePglite(drizzlePglite(client), { migrationsFolder: options.migrationsFolder });
  const vacuum = new EmbeddedVacuum(client, options.vacuumEveryMs ?? EMBEDDED_VACUUM_EVERY_MS, options.onVacuum ?? (() => {}));
  return {
    db,
    raw: { kind: 'pglite', client },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    // PGlite admits one process: there is nobody to wait for.
    exclusive: (work) => work(),
    close: async () => {
      await vacuum.stop();
      await client.close();
    },
  };
}
