import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeApiKey } from '../../src/core/projects/project-admin.js';
import { apiKeys } from '../../src/db/schema.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw?.close());

const chatBody = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

describe('project key authentication', () => {
  it('accepts the key as a Bearer token, an X-API-Key header and an api_key query parameter', async () => {
    const { secret } = await gw.project();
    const json = { 'content-type': 'application/json' };
    const bearer = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { ...json, authorization: `Bearer ${secret}` }, body: chatBody });
    const header = await fetch(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { ...json, 'x-api-key': secret }, body: chatBody });
    const query = await fetch(`${gw.baseURL}/chat/completions?api_key=${secret}`, { method: 'POST', headers: json, body: chatBody });
    expect([bearer.status, header.status, query.status]).toEqual([200, 200, 200]);
  });

  it('refuses a missing, malformed or unknown key with 401 authentication_error', async () => {
    const res = await fetch(`${gw.baseURL}/models`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { type: 'authentication_error', code: 401 } });
    await expect(gw.client('not-a-key').models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(gw.client(`pk_test_${'x'.repeat(40)}`).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('stops accepting a key once it is revoked', async () => {
    const { secret, keyId } = await gw.project();
    const client = gw.client(secret);
    await client.models.list();
    await revokeApiKey(gw.database.db, gw.gateway.bus, keyId);
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).message).toMatch(/revoked/);
  });

  it('refuses an expired key', async () => {
    const { secret, keyId } = await gw.project();
    await gw.database.db.update(apiKeys).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiKeys.id, keyId));
    gw.gateway.bus.publish('invalidate', { kind: 'api-key', id: keyId });
    const err = await gw.client(secret).models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).toMatch(/expired/);
  });

  it('stores only a hash of the key, never the secret', async () => {
    const { secret, keyId } = await gw.project();
    const [row] = await gw.database.db.select().from(apiKeys).where(eq(apiKeys.id, keyId));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(row)).not.toContain(secret.slice(8, 30));
    expect(row!.prefix).toBe(secret.slice(0, 12));
  });
});
