// Payload capture for the request explorer: off by default, on per project
// (redacted by its patterns, gzip-compressed, off the request's path), for
// every door that runs through the chat and embedding services, and purged
// after PAYLOAD_RETENTION_DAYS.
import { gunzipSync } from 'node:zlib';
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateProjectAction } from '../../src/core/projects/project-actions.js';
import { requestPayloads } from '../../src/db/schema.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
const EMAIL = '[\\w.+-]+@[\\w-]+\\.[\\w.]+';

beforeAll(async () => {
  gw = await startGateway({ env: { PAYLOAD_RETENTION_DAYS: '7' } });
});
afterAll(async () => gw?.close());

async function capturingProject(patterns: string[] = [EMAIL]) {
  const project = await gw.project();
  await updateProjectAction(gw.gateway, 'test', { id: project.projectId, capturePayloads: true, redactPatterns: patterns });
  return project;
}

const stored = async (requestId: string) => {
  await gw.gateway.metering.idle();
  await gw.gateway.payloads.idle();
  const [row] = await gw.database.db.select().from(requestPayloads).where(eq(requestPayloads.requestId, requestId));
  return row;
};

const text = (bytes: Uint8Array | null | undefined) => (bytes ? gunzipSync(bytes).toString('utf8') : null);

describe('payload capture', () => {
  it('is off by default: nothing is stored', async () => {
    const { secret, projectId } = await gw.project();
    const res = await gw.client(secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'keep this to yourself' }] }).withResponse();
    expect(await stored(res.response.headers.get('x-request-id')!)).toBeUndefined();
    expect(await gw.database.db.select().from(requestPayloads).where(eq(requestPayloads.projectId, projectId))).toEqual([]);
  });

  it('stores a JSON answer and its prompt, gzip-compressed, with emails redacted', async () => {
    const { secret, projectId } = await capturingProject();
    const res = await gw.client(secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'write to dave@example.com today' }] }).withResponse();
    const row = await stored(res.response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ projectId });
    // gzip's magic bytes: stored compressed.
    expect([...row!.request.slice(0, 2)]).toEqual([0x1f, 0x8b]);
    const request = JSON.parse(text(row!.request)!);
    expect(request).toMatchObject({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'write to [REDACTED] today' }] });
    const response = JSON.parse(text(row!.response)!);
    // The mock echoes the prompt, so the answer had the address too.
    expect(response.choices[0].message.content).toContain('[REDACTED]');
    expect(text(row!.response)).not.toContain('dave@example.com');
  });

  it("stores a stream's assembled text", async () => {
    const { secret } = await capturingProject([]);
    const stream = await gw.client(secret).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream these several words back to me please' }] }).withResponse();
    let answer = '';
    for await (const chunk of stream.data) answer += chunk.choices[0]?.delta.content ?? '';
    const row = await stored(stream.response.headers.get('x-request-id')!);
    const response = JSON.parse(text(row!.response)!);
    expect(response).toMatchObject({ stream: true, choices: [{ index: 0, content: answer, finish_reason: 'stop' }] });
    expect(answer.length).toBeGreaterThan(0);
  });

  it('stores only the inputs of an embedding request', async () => {
    const { secret } = await capturingProject();
    const res = await gw.client(secret).embeddings.create({ model: 'text-embedding-3-small', input: ['vector for erin@example.net', 'plain'] }).withResponse();
    const row = await stored(res.response.headers.get('x-request-id')!);
    expect(JSON.parse(text(row!.request)!)).toMatchObject({ input: ['vector for [REDACTED]', 'plain'] });
    expect(row!.response).toBeNull();
  });

  it('covers the other doors through the same services (Responses, Messages, Gemini)', async () => {
    const { secret } = await capturingProject();
    const responses = await fetch(`${gw.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', input: 'responses door, frank@example.com' }),
    });
    expect(responses.status).toBe(200);
    const viaResponses = await stored(responses.headers.get('x-request-id')!);
    expect(text(viaResponses!.request)).toContain('responses door, [REDACTED]');
    expect(text(viaResponses!.response)).toContain('[REDACTED]');

    const messages = await fetch(`${gw.baseURL}/messages`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'messages door, gina@example.com' }] }),
    });
    expect(messages.status).toBe(200);
    const viaMessages = await stored(messages.headers.get('x-request-id')!);
    expect(text(viaMessages!.request)).toContain('messages door, [REDACTED]');

    const gemini = await fetch(`${gw.url}/v1beta/models/gemini-2.0-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'gemini door, ivan@example.com' }] }] }),
    });
    expect(gemini.status).toBe(200);
    const viaGemini = await stored(gemini.headers.get('x-request-id')!);
    expect(text(viaGemini!.request)).toContain('gemini door, [REDACTED]');
  });

  it('stops when the project turns it off again', async () => {
    const { secret, projectId } = await capturingProject();
    await updateProjectAction(gw.gateway, 'test', { id: projectId, capturePayloads: false });
    const res = await gw.client(secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'not any more' }] }).withResponse();
    expect(await stored(res.response.headers.get('x-request-id')!)).toBeUndefined();
  });

  it('purges payloads older than PAYLOAD_RETENTION_DAYS and keeps the rest', async () => {
    const { secret } = await capturingProject();
    const ids: string[] = [];
    for (const word of ['old', 'new']) {
      const res = await gw.client(secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: word }] }).withResponse();
      ids.push(res.response.headers.get('x-request-id')!);
    }
    await stored(ids[1]!);
    // One of them captured eight days ago, the other now.
    await gw.database.db.update(requestPayloads).set({ createdAt: sql`now() - interval '8 days'` }).where(eq(requestPayloads.requestId, ids[0]!));
    const deleted = await gw.gateway.payloads.purge();
    expect(deleted).toBeGreaterThanOrEqual(1);
    const left = await gw.database.db.select({ id: requestPayloads.requestId }).from(requestPayloads).where(inArray(requestPayloads.requestId, ids));
    expect(left.map((r) => r.id)).toEqual([ids[1]]);
    // A payload six days old stays.
    await gw.database.db.update(requestPayloads).set({ createdAt: sql`now() - interval '6 days'` }).where(eq(requestPayloads.requestId, ids[1]!));
    expect(await gw.gateway.payloads.purge()).toBe(0);
  });
});
