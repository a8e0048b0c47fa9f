import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openapiErrors } from '../helpers/openapi.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
let secret: string;
beforeAll(async () => {
  gw = await startGateway();
  ({ secret } = await gw.project());
});
afterAll(async () => gw?.close());

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('embeddings in test mode', () => {
  it("embeds one string into a unit vector of the model's dimension", async () => {
    const res = await gw.client(secret).embeddings.create({ model: 'text-embedding-004', input: 'hello world', encoding_format: 'float' });
    expect(res.data).toHaveLength(1);
    expect(res.data[0]!.embedding).toHaveLength(768);
    expect(norm(res.data[0]!.embedding)).toBeCloseTo(1, 6);
    expect(res.usage.prompt_tokens).toBe(2);
    expect(openapiErrors('CreateEmbeddingResponse', res)).toEqual([]);
  });

  it('embeds an array in order, the same input always giving the same vector', async () => {
    const client = gw.client(secret);
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta', 'alpha'], encoding_format: 'float' });
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(res.data[0]!.embedding).toHaveLength(1536);
    expect(res.data[0]!.embedding).toEqual(res.data[2]!.embedding);
    expect(res.data[0]!.embedding).not.toEqual(res.data[1]!.embedding);
    const again = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'beta', encoding_format: 'float' });
    expect(again.data[0]!.embedding).toEqual(res.data[1]!.embedding);
  });

  it('honours dimensions and base64 encoding (the client decodes it)', async () => {
    const res = await gw.client(secret).embeddings.create({ model: 'text-embedding-3-small', input: 'x', dimensions: 64 });
    expect(res.data[0]!.embedding).toHaveLength(64);
    expect(norm(res.data[0]!.embedding)).toBeCloseTo(1, 5);
  });

  it('refuses empty input with a 400 naming input', async () => {
    const res = await fetch(`${gw.baseURL}/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'text-embedding-004', input: '' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('input');
  });
});
