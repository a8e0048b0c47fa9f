// Replicas started together on an empty Postgres (a fresh deployment of N
// pods) take turns at migrating and bootstrapping: all of them come up, and
// the one-time setup happens once.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { count } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/open-database.js';
import { adminTokens, projects, settings } from '../../src/db/schema.js';
import { spawnGateway } from '../helpers/gateway-process.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('replicas starting at once on an empty database', () => {
  it.skipIf(!onPostgres())('all come up, and migrations and the first-start setup run once', async () => {
    const pg = await createTestDatabase();
    cleanups.push(() => pg.drop());
    const env = { DATABASE_URL: pg.url, ENCRYPTION_KEY: randomBytes(32).toString('hex') };
    const replicas = await Promise.all([spawnGateway(env), spawnGateway(env), spawnGateway(env)]);
    for (const r of replicas) cleanups.push(async () => r.child.kill('SIGKILL'));
    for (const r of replicas) expect((await fetch(`${r.url}/readyz`)).status).toBe(200);

    const database = await openDatabase({ databaseUrl: pg.url, dataDir: 'memory://', migrationsFolder: fileURLToPath(new URL('../../drizzle', import.meta.url)) });
    cleanups.push(() => database.close());
    const [tokens] = await database.db.select({ n: count() }).from(adminTokens);
    const [demo] = await database.db.select({ n: count() }).from(projects);
    const [marks] = await database.db.select({ n: count() }).from(settings);
    expect(tokens!.n).toBe(1);
    expect(demo!.n).toBe(1);
    expect(marks!.n).toBeGreaterThanOrEqual(1);
    for (const r of replicas) r.child.kill('SIGTERM');
    expect(await Promise.all(replicas.map((r) => r.exited))).toEqual([0, 0, 0]);
  }, 120_000);
});
