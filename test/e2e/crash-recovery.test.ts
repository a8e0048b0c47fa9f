import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { eq, sql } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { upsertModel } from '../../src/core/catalogue/upsert-model.js';
import { LocalEventBus } from '../../src/core/events/event-bus.js';
import { parseMoney } from '../../src/core/money.js';
import { createApiKey, createProject, setModelPermissions } from '../../src/core/projects/project-admin.js';
import { addUpstreamKey } from '../../src/core/routing/upstream-key-admin.js';
import { providerInfos } from '../../src/providers/registry.js';
import { SecretBox } from '../../src/core/secrets/secret-box.js';
import { type Database, openDatabase } from '../../src/db/open-database.js';
import { rowsOf } from '../../src/db/rows.js';
import { ledgerEntries, projects, usageRecords } from '../../src/db/schema.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { type GatewayProcess, spawnGateway } from '../helpers/gateway-process.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('a gateway killed mid-stream', () => {
  it.skipIf(!onPostgres())('leaves reservations that a restarted gateway settles exactly once', async () => {
    const pg = await createTestDatabase();
    cleanups.push(() => pg.drop());
    const encryptionKey = randomBytes(32).toString('hex');
    const upstream: Emulator = await startOpenAIEmulator();
    cleanups.push(() => upstream.close());
    upstream.setScript({ text: Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '), chunks: 20 });
    upstream.setDefault({ eventDelayMs: 200 });

    const database: Database = await openDatabase({ databaseUrl: pg.url, dataDir: 'memory://', migrationsFolder: fileURLToPath(new URL('../../drizzle', import.meta.url)) });
    cleanups.push(() => database.close());
    const db = database.db;
    const bus = new LocalEventBus();
    await upsertModel(db, { id: 'crash-model', kind: 'chat', ownedBy: 'test', inputPrice: '1', outputPrice: '2', maxOutputTokens: 500, routes: [{ provider: 'openai', upstreamModel: 'crash-model' }] });
    await addUpstreamKey(db, SecretBox.fromString(encryptionKey), bus, providerInfos, { provider: 'openai', label: 'emu', secret: 'sk-crash', baseUrl: upstream.url });
    const project = await createProject(db, { name: 'crash', initialBalance: '10', actor: 'test' });
    await setModelPermissions(db, bus, project.id, ['*']);
    const { secret } = await createApiKey(db, bus, { projectId: project.id, mode: 'live' });

    const env = { DATABASE_URL: pg.url, ENCRYPTION_KEY: encryptionKey, ADMIN_TOKEN: `gwa_${randomBytes(12).toString('hex')}`, REPLICA_HEARTBEAT_SECONDS: '0.5' };
    const first: GatewayProcess = await spawnGateway(env);
    cleanups.push(async () => first.child.kill('SIGKILL'));
    const client = new OpenAI({ apiKey: secret, baseURL: `${first.url}/v1`, maxRetries: 0 });

    // Ten streams, each past its first chunk, then the process dies.
    const streams = await Promise.all(Array.from({ length: 10 }, () => client.chat.completions.create({ model: 'crash-model', stream: true, messages: [{ role: 'user', content: 'go' }] })));
    const iterators = streams.map((s) => s[Symbol.asyncIterator]());
    await Promise.all(iterators.map((it) => it.next()));
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all(iterators.map((it) => it.next().catch(() => undefined)));

    const reserved = await db.select().from(usageRecords).where(eq(usageRecords.status, 'reserved'));
    expect(reserved).toHaveLength(10);

    const second = await spawnGateway(env);
    cleanups.push(async () => {
      second.child.kill('SIGTERM');
      await second.exited;
    });
    await expect
      .poll(async () => (await db.select().from(usageRecords).where(eq(usageRecords.status, 'reserved'))).length, { timeout: 15_000, interval: 200 })
      .toBe(0);

    const rows = await db.select().from(usageRecords).where(eq(usageRecords.projectId, project.id));
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.status === 'aborted' && r.errorCode === 'recovered' && r.settledAt !== null)).toBe(true);
    const charges = await db.select().from(ledgerEntries).where(eq(ledgerEntries.kind, 'charge'));
    expect(new Set(charges.map((c) => c.requestId)).size).toBe(10);
    expect(charges).toHaveLength(10);
    const [p] = await db.select().from(projects).where(eq(projects.id, project.id));
    const [sum] = rowsOf<{ total: string }>(await db.execute(sql`select sum(amount)::text as total from ledger_entries where project_id = ${project.id}`));
    expect(parseMoney(p!.reserved)).toBe(0n);
    expect(parseMoney(sum!.total)).toBe(parseMoney(p!.balance));
    expect(parseMoney(p!.balance)).toBeLessThan(parseMoney('10'));
  }, 120_000);
});
