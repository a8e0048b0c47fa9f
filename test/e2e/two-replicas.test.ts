import { eq, sql } from 'drizzle-orm';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMoney } from '../../src/core/money.js';
import { countPromptTokens } from '../../src/tokens/count-tokens.js';
import { rowsOf } from '../../src/db/rows.js';
import { projects } from '../../src/db/schema.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { onPostgres } from '../helpers/test-database.js';

const redisUrl = process.env.TEST_REDIS_URL;
let one: TestGateway;
let two: TestGateway;
let upstream: Emulator;

describe.skipIf(!onPostgres())('two gateway replicas on one Postgres', () => {
  beforeAll(async () => {
    upstream = await startOpenAIEmulator();
    one = await startGateway(redisUrl ? { env: { REDIS_URL: redisUrl } } : {});
    two = await startGateway({ databaseUrl: one.databaseUrl!, encryptionKey: one.encryptionKey, ...(redisUrl ? { env: { REDIS_URL: redisUrl } } : {}) });
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
    await upstream?.close();
  });

  it('never overspend a balance together: 200 requests split across both, balance for 50', async () => {
    await liveModel(one, { id: 'replica-model', upstreamModel: 'replica-model', keys: [{ baseUrl: upstream.url }] });
    await Promise.all([two.gateway.catalogue.reload(), two.gateway.pool.reload()]);
    const messages = [{ role: 'user' as const, content: 'split me' }];
    // Worked out by hand: 9 prompt tokens, reserved as ceil(9 × 1.25) + 16 =
    // 12 + 16 = 28; with 50 output tokens at 1 and 2 per 1M a request reserves
    // 28 × 0.000001 + 50 × 0.000002 = 0.000028 + 0.0001 = 0.000128, and 50 of
    // them 0.0064. Each answer reports exactly that, so it costs its reservation.
    expect(countPromptTokens(messages)).toBe(9);
    upstream.setDefault({ latencyMs: 100 });
    upstream.setScript({ text: 'ok', usage: { input: 28, output: 50 } });
    const { secret, projectId } = await one.project({ mode: 'live', balance: '0.0064' });
    const clients = [one.client(secret), two.client(secret)];
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => clients[i % 2]!.chat.completions.create({ model: 'replica-model', messages, max_tokens: 50 })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(50);
    expect(results.filter((r) => r.status === 'rejected').every((r) => ((r as PromiseRejectedResult).reason as InstanceType<typeof OpenAI.APIError>).status === 402)).toBe(true);
    await Promise.all([one.gateway.metering.idle(), two.gateway.metering.idle()]);
    const [p] = await one.database.db.select().from(projects).where(eq(projects.id, projectId));
    const [sum] = rowsOf<{ total: string }>(await one.database.db.execute(sql`select sum(amount)::text as total from ledger_entries where project_id = ${projectId}`));
    expect(parseMoney(p!.balance)).toBe(0n);
    expect(parseMoney(sum!.total)).toBe(0n);
  });

  it.skipIf(!redisUrl)('holds a key rate limit across both replicas through Redis', async () => {
    const { secret } = await one.project({ rpmLimit: 6 });
    const clients = [one.client(secret), two.client(secret)];
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => clients[i % 2]!.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(6);
    expect(results.filter((r) => r.status === 'rejected').every((r) => ((r as PromiseRejectedResult).reason as InstanceType<typeof OpenAI.APIError>).status === 429)).toBe(true);
  });
});
