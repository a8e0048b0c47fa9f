import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/**
 * The suite runs on PGlite always and on real Postgres in the `postgres`
 * vitest project (DATABASE_URL set). Each gateway there gets a database of
 * its own, dropped afterwards, so files never see each other's rows.
 */
export const onPostgres = (): boolean => process.env.GATEWAY_TEST_DB === 'postgres' && !!process.env.DATABASE_URL;

export async function createTestDatabase(base = process.env.DATABASE_URL!): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gw_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** A migrated database of the suite's current backend, for core tests without the HTTP server. */
export async function openTestDatabase(): Promise<{ database: import('../../src/db/open-database.js').Database; close(): Promise<void> }> {
  const { openDatabase } = await import('../../src/db/open-database.js');
  const migrationsFolder = new URL('../../drizzle', import.meta.url).pathname;
  const pg = onPostgres() ? await createTestDatabase() : undefined;
  const database = await openDatabase({ databaseUrl: pg?.url, dataDir: 'memory://', migrationsFolder, poolSize: 20 });
  return {
    database,
    async close() {
      await database.close();
      await pg?.drop();
    },
  };
}
