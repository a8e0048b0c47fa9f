import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageRecords } from '../../src/db/schema.js';
import { collectText, type Emulator, startOpenAIEmulator, tokens } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { openapiErrors } from '../helpers/openapi.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { onPostgres } from '../helpers/test-database.js';

// Two replicas on one Postgres when the suite runs there; on PGlite (one
// process by construction) the same tests run against one gateway twice.
let one: TestGateway;
let two: TestGateway;
let upstream: Emulator;
const MODEL = 'state-model';

beforeAll(async () => {
  upstream = await startOpenAIEmulator();
  one = await startGateway();
  two = onPostgres() ? await startGateway({ databaseUrl: one.databaseUrl!, encryptionKey: one.encryptionKey }) : one;
  await liveModel(one, { id: MODEL, upstreamModel: MODEL, keys: [{ baseUrl: upstream.url }] });
  await Promise.all([two.gateway.catalogue.reload(), two.gateway.pool.reload()]);
});
afterAll(async () => {
  if (two !== one) await two?.close();
  await one?.close();
  await upstream?.close();
});

const valid = (schema: 'Response' | 'ResponseItemList', value: unknown) => expect(openapiErrors(schema, JSON.parse(JSON.stringify(value)))).toEqual([]);

const status = async (p: Promise<unknown>): Promise<number | undefined> =>
  p.then(
    () => 200,
    (e: unknown) => (e instanceof OpenAI.APIError ? e.status : undefined),
  );

describe('previous_response_id across replicas', () => {
  it('sends the whole conversation upstream each turn and bills it all as input, turns alternating between replicas', async () => {
    upstream.reset();
    const { secret, projectId } = await one.project({ mode: 'live' });
    const clients = [one.client(secret), two.client(secret), one.client(secret)];
    const turns = ['first question', 'second question', 'third question'];
    const replies = ['first answer', 'second answer', 'third answer'];
    const ids: string[] = [];
    for (const [i, input] of turns.entries()) {
      upstream.setScript({ text: replies[i]! });
      const r = await clients[i]!.responses.create({ model: MODEL, input, max_output_tokens: 50, ...(i > 0 ? { previous_response_id: ids[i - 1]! } : {}) });
      valid('Response', r);
      expect(r.output_text).toBe(replies[i]);
      expect(r.previous_response_id ?? null).toBe(i > 0 ? ids[i - 1] : null);
      ids.push(r.id);
    }
    // What the upstream received: every earlier question and answer, in order, then this turn's question.
    expect(upstream.requests).toHaveLength(3);
    for (const [i, req] of upstream.requests.entries()) {
      const said = (req.body.messages as Array<{ role: string; content: unknown }>).map((m) => [m.role, collectText(m.content).join('')]);
      const expected = turns.slice(0, i + 1).flatMap((q, k) => (k < i ? [['user', q], ['assistant', replies[k]!]] : [['user', q]]));
      expect(said).toEqual(expected);
    }
    // The emulator counts the input it received; the usage rows bill exactly that, growing with the conversation.
    await Promise.all([one.gateway.metering.idle(), two.gateway.metering.idle()]);
    const rows = await one.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId));
    expect(rows).toHaveLength(3);
    const byTurn = upstream.requests.map((req) => tokens(collectText(req.body.messages).join('').length));
    expect(rows.map((r) => r.promptTokens).sort((a, b) => a - b)).toEqual([...byTurn].sort((a, b) => a - b));
    expect(byTurn[0]! < byTurn[1]! && byTurn[1]! < byTurn[2]!).toBe(true);
    expect(rows.every((r) => r.endpoint === 'responses' && r.status === 'ok')).toBe(true);
    // The last turn is readable from either replica, and its input items are this turn's only.
    for (const client of clients.slice(0, 2)) {
      const again = await client.responses.retrieve(ids[2]!);
      expect(again.output_text).toBe('third answer');
      valid('Response', again);
    }
    const items = await clients[1]!.responses.inputItems.list(ids[2]!);
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'third question' }] });
  });
});

describe('stored responses', () => {
  it('retrieves, lists input items page by page (auto-pagination and after), and deletes', async () => {
    upstream.reset();
    const { secret } = await one.project();
    const client = one.client(secret);
    const input = Array.from({ length: 25 }, (_, i) => ({ role: 'user' as const, content: `line ${i}` }));
    const created = await client.responses.create({ model: 'gpt-4o-mini', input });
    const got = await two.client(secret).responses.retrieve(created.id);
    expect(got).toEqual(JSON.parse(JSON.stringify(created)));

    const seen: string[] = [];
    for await (const item of client.responses.inputItems.list(created.id, { limit: 10 })) {
      seen.push(((item as { content: Array<{ text: string }> }).content[0]!).text);
    }
    expect(seen).toEqual(input.map((m) => m.content).reverse());

    const first = await client.responses.inputItems.list(created.id, { limit: 10, order: 'asc' });
    valid('ResponseItemList', { object: 'list', data: first.data, first_id: first.data[0]!.id, last_id: first.data.at(-1)!.id, has_more: first.has_more });
    expect(first.data).toHaveLength(10);
    expect(first.has_more).toBe(true);
    const second = await client.responses.inputItems.list(created.id, { limit: 10, order: 'asc', after: first.data.at(-1)!.id });
    expect(((second.data[0] as { content: Array<{ text: string }> }).content[0]!).text).toBe('line 10');
    const raw = await fetch(`${one.baseURL}/responses/${created.id}/input_items?limit=20&order=asc&after=${second.data.at(-1)!.id}`, {
      headers: { authorization: `Bearer ${secret}` },
    }).then((r) => r.json() as Promise<{ data: Array<{ id: string }>; first_id: string; last_id: string; has_more: boolean; object: string }>);
    valid('ResponseItemList', raw);
    expect(raw).toMatchObject({ object: 'list', has_more: false, first_id: raw.data[0]!.id, last_id: raw.data[4]!.id });
    expect(raw.data).toHaveLength(5);

    const bad = await fetch(`${one.baseURL}/responses/${created.id}/input_items?limit=0`, { headers: { authorization: `Bearer ${secret}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('limit');

    const deleted = await fetch(`${two.baseURL}/responses/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${secret}` } });
    expect(await deleted.json()).toEqual({ id: created.id, object: 'response', deleted: true });
    expect(await status(client.responses.retrieve(created.id))).toBe(404);
    expect(await status(client.responses.delete(created.id))).toBe(404);
  });

  it('keeps another project’s responses out of reach: retrieve, delete, input_items, cancel and previous_response_id are 404', async () => {
    const mine = await one.project();
    const theirs = await one.project();
    const created = await one.client(theirs.secret).responses.create({ model: 'gpt-4o-mini', input: 'private' });
    const client = two.client(mine.secret);
    const errors = await Promise.all([
      client.responses.retrieve(created.id).catch((e: unknown) => e),
      client.responses.delete(created.id).catch((e: unknown) => e),
      client.responses.inputItems.list(created.id).catch((e: unknown) => e),
      client.responses.cancel(created.id).catch((e: unknown) => e),
      client.responses.create({ model: 'gpt-4o-mini', input: 'continue', previous_response_id: created.id }).catch((e: unknown) => e),
    ]);
    for (const e of errors) {
      expect(e).toBeInstanceOf(OpenAI.NotFoundError);
      // Our error body is OpenAI's except that `code` carries the HTTP status, as the seed's does.
      const error = (e as InstanceType<typeof OpenAI.APIError>).error as { code: number };
      expect(error.code).toBe(404);
      expect(openapiErrors('ErrorResponse', { error: { ...error, code: '404' } })).toEqual([]);
    }
    const unknown = await client.responses.retrieve(`${created.id.slice(0, -1)}Z`).catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect((errors[0] as Error).message.replace(created.id, 'ID')).toBe((unknown as Error).message.replace(`${created.id.slice(0, -1)}Z`, 'ID'));
    expect((errors[4] as InstanceType<typeof OpenAI.APIError>).param).toBe('previous_response_id');
    // Still there for its owner.
    expect((await one.client(theirs.secret).responses.retrieve(created.id)).id).toBe(created.id);
  });

  it('does not keep a response created with store: false', async () => {
    const { secret } = await one.project();
    const client = one.client(secret);
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'forget me', store: false });
    expect((created as { store?: boolean }).store).toBe(false);
    expect(await status(client.responses.retrieve(created.id))).toBe(404);
    expect(await status(client.responses.create({ model: 'gpt-4o-mini', input: 'x', previous_response_id: created.id }))).toBe(404);
  });

  it('refuses to cancel a response that was not created in the background', async () => {
    const { secret } = await one.project();
    const client = one.client(secret);
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'sync' });
    const e = await client.responses.cancel(created.id).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as Error).message).toMatch(/background/);
  });

  it('lets an operator read any project’s response, over REST and GraphQL; a project key cannot use GraphQL', async () => {
    const { secret } = await one.project();
    const created = await one.client(secret).responses.create({ model: 'gpt-4o-mini', input: 'support case' });
    const rest = await fetch(`${two.baseURL}/responses/${created.id}`, { headers: { authorization: `Bearer ${one.adminToken}` } });
    expect(rest.status).toBe(200);
    expect(((await rest.json()) as { id: string }).id).toBe(created.id);
    const items = await fetch(`${one.baseURL}/responses/${created.id}/input_items`, { headers: { authorization: `Bearer ${one.adminToken}` } });
    expect(((await items.json()) as { data: unknown[] }).data).toHaveLength(1);
    const query = JSON.stringify({ query: `{ response(id: "${created.id}") { id status background body inputItems } }` });
    const gql = await fetch(`${one.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${one.adminToken}`, 'content-type': 'application/json' }, body: query });
    const answer = (await gql.json()) as { data: { response: { id: string; status: string; body: { output_text?: string; id: string }; inputItems: unknown[] } } };
    expect(answer.data.response).toMatchObject({ id: created.id, status: 'COMPLETED', background: false, body: { id: created.id } });
    expect(answer.data.response.inputItems).toHaveLength(1);
    const asKey = await fetch(`${one.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: query });
    expect(((await asKey.json()) as { data?: { response: unknown } }).data?.response ?? null).toBeNull();
    // An operator may read, not delete: deletes take the project's key.
    const del = await fetch(`${one.baseURL}/responses/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${one.adminToken}` } });
    expect(del.status).toBe(401);
  });
});
