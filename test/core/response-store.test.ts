import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/contract/ids.js';
import { recoverStaleReservations } from '../../src/core/billing/recover-stale.js';
import { startResponsePurge } from '../../src/core/doors/responses/response-retention.js';
import { silentLogger } from '../../src/core/logger.js';
import { REPLICA_LOST_ERROR, type ResponseBody, type ResponseRecord, ResponseStore } from '../../src/core/doors/responses/response-store.js';
import { GatewayError } from '../../src/core/errors.js';
import { replicas, responses } from '../../src/db/schema.js';
import { openapiErrors } from '../helpers/openapi.js';
import { useTestDatabase } from '../helpers/use-test-database.js';

const t = useTestDatabase();

const body = (id: string, status: ResponseBody['status'], text: string, extra: Partial<ResponseBody> = {}): ResponseBody => ({
  id,
  object: 'response',
  status,
  created_at: 1_700_000_000,
  output: text ? [{ type: 'message', id: `msg_out_${text}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] }] : [],
  ...extra,
});

const record = (projectId: string, apiKeyId: string, id: string, input: ResponseRecord['inputItems'], reply: string, extra: Partial<ResponseRecord> = {}): ResponseRecord => ({
  id,
  projectId,
  apiKeyId,
  requestId: newId('req'),
  status: 'completed',
  background: false,
  store: true,
  previousResponseId: null,
  body: body(id, 'completed', reply),
  inputItems: input,
  ...extra,
});

const notFound = async (p: Promise<unknown>, param?: string) => {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(GatewayError);
  expect((e as GatewayError).status).toBe(404);
  expect((e as GatewayError).param).toBe(param);
  return (e as GatewayError).message;
};

describe('ResponseStore', () => {
  it('reads a response back only under its own project, with the same 404 for an unknown id and another project’s', async () => {
    const store = new ResponseStore(t.db, 'rep_a');
    const a = await t.customer();
    const b = await t.customer();
    const id = newId('resp', 24);
    await store.save(record(a.projectId, a.apiKeyId, id, [{ role: 'user', content: 'hi' }], 'hello'));
    expect((await store.get(a.projectId, id)).output).toHaveLength(1);
    const foreign = await notFound(store.get(b.projectId, id));
    const unknown = await notFound(store.get(b.projectId, `${id}x`));
    expect(foreign).toBe(unknown.replace(`${id}x`, id));
    await notFound(store.delete(b.projectId, id));
    await notFound(store.inputItems(b.projectId, id));
    await notFound(store.conversation(b.projectId, id), 'previous_response_id');
    expect(await store.delete(a.projectId, id)).toEqual({ id, object: 'response', deleted: true });
    await notFound(store.get(a.projectId, id));
  });

  it('stores input items as the spec lists them: ids, typed messages, text parts', async () => {
    const store = new ResponseStore(t.db, 'rep_a');
    const a = await t.customer();
    const id = newId('resp', 24);
    await store.save(
      record(a.projectId, a.apiKeyId, id, [
        { role: 'user', content: 'hi' },
        { type: 'message', role: 'assistant', content: 'earlier answer' },
        { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: '42' },
      ], 'ok'),
    );
    const list = await store.inputItems(a.projectId, id, { order: 'asc' });
    expect(openapiErrors('ResponseItemList', list)).toEqual([]);
    expect(list.data.map((i) => i.type)).toEqual(['message', 'message', 'function_call', 'function_call_output']);
    expect(list.data.every((i) => typeof i.id === 'string' && i.id.length > 10)).toBe(true);
    expect(list.data[0]!.content).toEqual([{ type: 'input_text', text: 'hi' }]);
  });

  it('pages input items by cursor in both orders, after and before', async () => {
    const store = new ResponseStore(t.db, 'rep_a');
    const a = await t.customer();
    const id = newId('resp', 24);
    const ids = Array.from({ length: 7 }, (_, i) => `msg_${i}`);
    await store.save(record(a.projectId, a.apiKeyId, id, ids.map((mid, i) => ({ id: mid, type: 'message', role: 'user', content: `m${i}` })), 'ok'));
    const desc = await store.inputItems(a.projectId, id, { limit: 3 });
    expect(desc.data.map((i) => i.id)).toEqual(['msg_6', 'msg_5', 'msg_4']);
    expect(desc).toMatchObject({ object: 'list', first_id: 'msg_6', last_id: 'msg_4', has_more: true });
    const next = await store.inputItems(a.projectId, id, { limit: 3, after: 'msg_4' });
    expect(next.data.map((i) => i.id)).toEqual(['msg_3', 'msg_2', 'msg_1']);
    const last = await store.inputItems(a.projectId, id, { limit: 3, after: 'msg_1' });
    expect(last).toMatchObject({ data: [{ id: 'msg_0' }], has_more: false, first_id: 'msg_0', last_id: 'msg_0' });
    const asc = await store.inputItems(a.projectId, id, { order: 'asc', limit: 2, after: 'msg_1' });
    expect(asc.data.map((i) => i.id)).toEqual(['msg_2', 'msg_3']);
    expect(asc.has_more).toBe(true);
    const beforeDesc = await store.inputItems(a.projectId, id, { limit: 2, before: 'msg_2' });
    expect(beforeDesc.data.map((i) => i.id)).toEqual(['msg_4', 'msg_3']);
    expect(beforeDesc.has_more).toBe(true);
    const beforeAsc = await store.inputItems(a.projectId, id, { order: 'asc', limit: 5, before: 'msg_2' });
    expect(beforeAsc.data.map((i) => i.id)).toEqual(['msg_0', 'msg_1']);
    expect(beforeAsc.has_more).toBe(false);
    const all = await store.inputItems(a.projectId, id, { limit: 100, order: 'asc' });
    expect(all.data.map((i) => i.id)).toEqual(ids);
    const err = await store.inputItems(a.projectId, id, { after: 'msg_nope' }).catch((e: GatewayError) => e);
    expect(err).toMatchObject({ status: 400, param: 'after' });
    await expect(store.inputItems(a.projectId, id, { limit: 101 })).rejects.toMatchObject({ status: 400, param: 'limit' });
  });

  it('rebuilds a chain as input items, oldest turn first, in one query per call', async () => {
    const store = new ResponseStore(t.db, 'rep_a');
    const a = await t.customer();
    const [r1, r2, r3] = [newId('resp', 24), newId('resp', 24), newId('resp', 24)];
    await store.save(record(a.projectId, a.apiKeyId, r1, [{ role: 'user', content: 'one' }], 'first'));
    await store.save(record(a.projectId, a.apiKeyId, r2, [{ role: 'user', content: 'two' }], 'second', { previousResponseId: r1 }));
    await store.save(record(a.projectId, a.apiKeyId, r3, [{ role: 'user', content: 'three' }], 'third', { previousResponseId: r2 }));
    const items = await store.conversation(a.projectId, r3);
    const texts = items.map((i) => ((i as { content: Array<{ text: string }> }).content[0]!.text));
    expect(texts).toEqual(['one', 'first', 'two', 'second', 'three', 'third']);
    expect((await store.conversation(a.projectId, r1)).length).toBe(2);
  });

  it('stops a chain at another project’s response: it is never read', async () => {
    const store = new ResponseStore(t.db, 'rep_a');
    const a = await t.customer();
    const b = await t.customer();
    const theirs = newId('resp', 24);
    const mine = newId('resp', 24);
    await store.save(record(b.projectId, b.apiKeyId, theirs, [{ role: 'user', content: 'secret' }], 'secret answer'));
    // A row naming another project's response as its parent (not possible through the door) still reads only its own turn.
    await store.save(record(a.projectId, a.apiKeyId, mine, [{ role: 'user', content: 'mine' }], 'ok', { previousResponseId: theirs }));
    expect(JSON.stringify(await store.conversation(a.projectId, mine))).not.toContain('secret');
  });

  it('refuses to continue from a response that is still running', async () => {
    const store = new ResponseStore(t.db, 'rep_a');
    const a = await t.customer();
    const id = newId('resp', 24);
    await store.save(record(a.projectId, a.apiKeyId, id, [{ role: 'user', content: 'x' }], '', { status: 'in_progress', background: true }));
    await expect(store.conversation(a.projectId, id)).rejects.toMatchObject({ status: 400, param: 'previous_response_id' });
  });

  it('moves status only from the expected ones, and never overwrites a finished response by saving', async () => {
    const store = new ResponseStore(t.db, 'rep_a');
    const a = await t.customer();
    const id = newId('resp', 24);
    const rec = record(a.projectId, a.apiKeyId, id, [{ role: 'user', content: 'x' }], '', { status: 'queued', background: true });
    await store.save(rec);
    expect(await store.markStatus(id, ['queued'], 'in_progress')).toMatchObject({ status: 'in_progress' });
    expect(await store.markStatus(id, ['queued'], 'in_progress')).toBeUndefined();
    expect(await store.markStatus(id, ['in_progress'], 'cancelled')).toMatchObject({ status: 'cancelled' });
    await store.save({ ...rec, status: 'completed', body: body(id, 'completed', 'late') });
    const stored = await store.get(a.projectId, id);
    expect(stored.status).toBe('cancelled');
    expect(stored.output).toEqual([]);
  });

  it('purges only responses older than the retention, and never open work', async () => {
    const store = new ResponseStore(t.db, 'rep_a');
    const a = await t.customer();
    const [old, recent, oldOpen] = [newId('resp', 24), newId('resp', 24), newId('resp', 24)];
    await store.save(record(a.projectId, a.apiKeyId, old, [{ role: 'user', content: 'x' }], 'a'));
    await store.save(record(a.projectId, a.apiKeyId, recent, [{ role: 'user', content: 'x' }], 'b'));
    await store.save(record(a.projectId, a.apiKeyId, oldOpen, [{ role: 'user', content: 'x' }], '', { status: 'in_progress', background: true }));
    await t.db.update(responses).set({ createdAt: sql`now() - interval '31 days'` }).where(sql`${responses.id} in (${old}, ${oldOpen})`);
    const deleted = await store.purge(new Date(Date.now() - 30 * 86_400_000));
    expect(deleted).toBeGreaterThanOrEqual(1);
    await notFound(store.get(a.projectId, old));
    expect((await store.get(a.projectId, recent)).status).toBe('completed');
    expect((await store.get(a.projectId, oldOpen)).status).toBe('in_progress');
  });

  it('runs the purge on its interval, with the retention in days', async () => {
    const store = new ResponseStore(t.db, 'rep_a');
    const a = await t.customer();
    const id = newId('resp', 24);
    await store.save(record(a.projectId, a.apiKeyId, id, [{ role: 'user', content: 'x' }], 'a'));
    await t.db.update(responses).set({ createdAt: sql`now() - interval '3 days'` }).where(eq(responses.id, id));
    const stop = startResponsePurge(store, 2, silentLogger, 20);
    try {
      await expect.poll(() => store.status(id), { timeout: 10_000, interval: 50 }).toBeUndefined();
    } finally {
      stop();
    }
  });

  it('fails a dead replica’s open responses in the recovery pass, and leaves a live one’s', async () => {
    const a = await t.customer();
    const dead = newId('rep', 12);
    const alive = newId('rep', 12);
    await t.db.insert(replicas).values([
      { id: dead, heartbeatAt: new Date(Date.now() - 60_000) },
      { id: alive, heartbeatAt: new Date() },
    ]);
    const deadStore = new ResponseStore(t.db, dead);
    const aliveStore = new ResponseStore(t.db, alive);
    const [d1, d2, l1, done] = [newId('resp', 24), newId('resp', 24), newId('resp', 24), newId('resp', 24)];
    await deadStore.save(record(a.projectId, a.apiKeyId, d1, [{ role: 'user', content: 'x' }], '', { status: 'in_progress', background: true }));
    await deadStore.save(record(a.projectId, a.apiKeyId, d2, [{ role: 'user', content: 'x' }], '', { status: 'queued', background: true }));
    await deadStore.save(record(a.projectId, a.apiKeyId, done, [{ role: 'user', content: 'x' }], 'fine'));
    await aliveStore.save(record(a.projectId, a.apiKeyId, l1, [{ role: 'user', content: 'x' }], '', { status: 'in_progress', background: true }));
    await recoverStaleReservations(t.db, { olderThan: new Date(Date.now() - 3_600_000), deadBefore: new Date(Date.now() - 30_000) });
    for (const id of [d1, d2]) {
      const b = await deadStore.get(a.projectId, id);
      expect(b).toMatchObject({ status: 'failed', error: REPLICA_LOST_ERROR });
      const [row] = await t.db.select({ status: responses.status }).from(responses).where(eq(responses.id, id));
      expect(row!.status).toBe('failed');
    }
    expect((await deadStore.get(a.projectId, done)).status).toBe('completed');
    expect((await aliveStore.get(a.projectId, l1)).status).toBe('in_progress');
  });
});
