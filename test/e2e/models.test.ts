import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openapiErrors } from '../helpers/openapi.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

describe('GET /v1/models', () => {
  it('lists every catalogue model for a project allowed "*", in OpenAI list shape', async () => {
    const { secret } = await gw.project();
    const page = await gw.client(secret).models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['gemini-2.0-flash', 'gemini-2.5-flash', 'text-embedding-004', 'deepseek-chat', 'gpt-4o-mini']));
    const gemini = page.data.find((m) => m.id === 'gemini-2.0-flash')!;
    expect(gemini.owned_by).toBe('google');
    const raw = await fetch(`${gw.baseURL}/models`, { headers: { authorization: `Bearer ${secret}` } });
    expect(openapiErrors('ListModelsResponse', await raw.json())).toEqual([]);
  });

  it("lists only the project's permitted models and 404s the others", async () => {
    const { secret } = await gw.project({ models: ['deepseek-chat', 'text-embedding-004'] });
    const client = gw.client(secret);
    const page = await client.models.list();
    expect(page.data.map((m) => m.id).sort()).toEqual(['deepseek-chat', 'text-embedding-004']);
    const one = await client.models.retrieve('deepseek-chat');
    expect(one).toMatchObject({ id: 'deepseek-chat', object: 'model', owned_by: 'deepseek' });
    await expect(client.models.retrieve('gpt-4o')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('is served under /api/v1 as well', async () => {
    const { secret } = await gw.project();
    const res = await fetch(`${gw.url}/api/v1/models`, { headers: { 'x-api-key': secret } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: string }).object).toBe('list');
  });
});
