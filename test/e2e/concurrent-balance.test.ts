import { eq, sql } from 'drizzle-orm';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMoney } from '../../src/core/money.js';
import { countPromptTokens } from '../../src/tokens/count-tokens.js';
import { rowsOf } from '../../src/db/rows.js';
import { projects, usageRecords } from '../../src/db/schema.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
let upstream: Emulator;
beforeAll(async () => {
  [gw, upstream] = await Promise.all([startGateway(), startOpenAIEmulator()]);
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

describe('a balance under concurrent load', () => {
  it('lets exactly the covered requests through when 200 arrive at once for a balance covering 50', async () => {
    await liveModel(gw, { id: 'concurrent-model', upstreamModel: 'concurrent-model', keys: [{ baseUrl: upstream.url }] });
    const messages = [{ role: 'user' as const, content: 'How much is this?' }];
    const maxTokens = 100;
    // Worked out by hand, not with the product's functions: the prompt counts
    // 12 tokens and is reserved as ceil(12 × 1.25) + 16 = 15 + 16 = 31; with
    // 100 output tokens at 1 and 2 per 1M a request reserves
    // 31 × 0.000001 + 100 × 0.000002 = 0.000031 + 0.0002 = 0.000231, and 50 of
    // them 0.01155.
    expect(countPromptTokens(messages)).toBe(12);
    // Each answer costs exactly its reservation, so the balance covers exactly 50 whatever the timing.
    upstream.setDefault({ latencyMs: 200 });
    upstream.setScript({ text: 'ok', usage: { input: 31, output: maxTokens } });
    const { secret, projectId } = await gw.project({ mode: 'live', balance: '0.01155' });
    const client = gw.client(secret);

    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () => client.chat.completions.create({ model: 'concurrent-model', messages, max_tokens: maxTokens })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as InstanceType<typeof OpenAI.APIError>] : []));
    expect(ok).toHaveLength(50);
    expect(refused).toHaveLength(150);
    expect(refused.every((e) => e.status === 402 && (e.error as { type: string }).type === 'insufficient_quota')).toBe(true);

    await gw.gateway.metering.idle();
    const [project] = await gw.database.db.select().from(projects).where(eq(projects.id, projectId));
    const [ledger] = rowsOf<{ total: string }>(await gw.database.db.execute(sql`select sum(amount)::text as total from ledger_entries where project_id = ${projectId}`));
    expect(parseMoney(project!.balance)).toBe(0n);
    expect(parseMoney(project!.reserved)).toBe(0n);
    expect(parseMoney(ledger!.total)).toBe(parseMoney(project!.balance));
    const rows = await gw.database.db.select({ status: usageRecords.status }).from(usageRecords).where(eq(usageRecords.projectId, projectId));
    expect(rows.filter((r) => r.status === 'ok')).toHaveLength(50);
    expect(rows.filter((r) => r.status === 'rejected')).toHaveLength(150);
  });
});
