import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageRecords } from '../../src/db/schema.js';
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

describe('streams are billed while they run', () => {
  it('stops a stream that outgrows its reservation with a clear error, charging no more than reserved', async () => {
    await liveModel(gw, { id: 'budget-model', upstreamModel: 'budget-model', keys: [{ baseUrl: upstream.url }], maxOutputTokens: 60 });
    upstream.setScript({ text: Array.from({ length: 400 }, (_, i) => `word${i}`).join(' '), chunks: 200, usage: { input: 10, output: 1200 } });
    const { secret } = await gw.project({ mode: 'live', balance: '1' });
    const res = await gw.client(secret).chat.completions.create({ model: 'budget-model', stream: true, messages: [{ role: 'user', content: 'go on' }] }).withResponse();
    let text = '';
    const err = await (async () => {
      for await (const chunk of res.data) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toMatch(/exceeded the 60 output tokens reserved/);
    expect(text.length).toBeGreaterThan(0);
    await gw.gateway.metering.idle();
    const [usage] = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, res.response.headers.get('x-request-id')!));
    expect(usage!.status).toBe('error');
    expect(Number(usage!.cost)).toBeLessThanOrEqual(Number(usage!.reservedCost));
    expect(Number(usage!.cost)).toBeGreaterThan(0);
  });

  it('records a usage row for a request refused for a bad body', async () => {
    const { secret, projectId } = await gw.project();
    const res = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: 'nope' }) });
    expect(res.status).toBe(400);
    const rows = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId));
    expect(rows).toMatchObject([{ status: 'rejected', httpStatus: 400, modelId: 'gpt-4o-mini' }]);
  });
});
