import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

const balance = (keyId: string, token?: string) =>
  fetch(`${gw.url}/api/balance/${keyId}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('GET /api/balance/:keyId', () => {
  it("shows the project's balance and the key's spend and limit to that key", async () => {
    const { keyId, secret, projectId } = await gw.project({ balance: '12.5', spendLimit: '3' });
    const res = await balance(keyId, secret);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      object: 'balance',
      key_id: keyId,
      project_id: projectId,
      currency: 'USD',
      balance: '12.5',
      reserved: '0',
      available: '12.5',
      key: { id: keyId, mode: 'test', spent: '0', spend_limit: '3', remaining_limit: '3', revoked: false },
    });
  });

  it('answers 404, not 403, to a key of another project, and 401 without a key', async () => {
    const mine = await gw.project();
    const theirs = await gw.project();
    const res = await balance(theirs.keyId, mine.secret);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: 'not_found_error', code: 404 } });
    expect((await balance('key_doesnotexist', mine.secret)).status).toBe(404);
    expect((await balance(mine.keyId)).status).toBe(401);
  });

  it('lets the operator token read any key', async () => {
    const { keyId } = await gw.project({ balance: '1' });
    const res = await balance(keyId, gw.adminToken);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { balance: string }).balance).toBe('1');
  });
});

describe('the REST routes under each prefix the README names', () => {
  it('serves the balance under /v1, /api/v1 and /api alike', async () => {
    const { keyId, secret } = await gw.project({ balance: '2' });
    for (const prefix of ['/v1', '/api/v1', '/api']) {
      const res = await fetch(`${gw.url}${prefix}/balance/${keyId}`, { headers: { authorization: `Bearer ${secret}` } });
      expect(res.status, prefix).toBe(200);
      expect(await res.json(), prefix).toMatchObject({ object: 'balance', key_id: keyId, balance: '2' });
    }
  });

  it('serves every project-key route of the table under both /v1 and /api/v1', async () => {
    const { keyId, secret } = await gw.project();
    const paths = ['/models', '/models/gpt-4o-mini', `/balance/${keyId}`, '/usage?range=1h'];
    for (const prefix of ['/v1', '/api/v1']) {
      for (const path of paths) {
        const res = await fetch(`${gw.url}${prefix}${path}`, { headers: { authorization: `Bearer ${secret}` } });
        expect(res.status, `${prefix}${path}`).toBe(200);
      }
      const chat = await gw.client(secret, { baseURL: `${gw.url}${prefix}` }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
      expect(chat.object).toBe('chat.completion');
      const embedding = await gw.client(secret, { baseURL: `${gw.url}${prefix}` }).embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
      expect(embedding.data).toHaveLength(1);
    }
    expect((await fetch(`${gw.url}/api/usage?range=1h`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
  });
});

describe('health endpoints', () => {
  it('healthz says the process is up and readyz that the database answers', async () => {
    expect(await (await fetch(`${gw.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
