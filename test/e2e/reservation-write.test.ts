import { eq, sql } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/rows.js';
import { projects, usageRecords } from '../../src/db/schema.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

// The reservation row is written while the upstream call runs (lease-backed
// requests are admitted in memory). These tests make that write fail for real,
// in the database, and check that nothing is served that could not be charged.
let gw: TestGateway;
let upstream: Emulator;
beforeAll(async () => {
  [gw, upstream] = await Promise.all([startGateway(), startOpenAIEmulator()]);
  await gw.database.db.execute(sql.raw(`
    CREATE FUNCTION refuse_unrecordable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.model_id = 'unrecordable' AND NEW.status = 'reserved' THEN RAISE EXCEPTION 'usage_records is full (test)'; END IF;
      RETURN NEW;
    END $$`));
  await gw.database.db.execute(sql.raw('CREATE TRIGGER refuse_unrecordable BEFORE INSERT ON usage_records FOR EACH ROW EXECUTE FUNCTION refuse_unrecordable()'));
  await liveModel(gw, { id: 'unrecordable', upstreamModel: 'gpt-4o-mini', keys: [{ baseUrl: upstream.url }] });
  await liveModel(gw, { id: 'recordable', upstreamModel: 'gpt-4o-mini', keys: [{ baseUrl: upstream.url }] });
});
// A hang fault the aborted request never reached must not catch the next test's request.
afterEach(() => upstream.reset());
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

async function projectState(projectId: string) {
  await gw.gateway.metering.idle();
  await gw.gateway.metering.escrow.release(projectId);
  const [p] = await gw.database.db.select().from(projects).where(eq(projects.id, projectId));
  const rows = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId));
  return { balance: p!.balance, reserved: p!.reserved, rows };
}

describe('the reservation row written alongside the upstream call', () => {
  it('a row that cannot be written stops the upstream call and the client gets a 500, charged nothing', async () => {
    const { secret, projectId } = await gw.project({ mode: 'live', balance: '5' });
    const [requestsBefore, abortsBefore] = [upstream.requests.length, upstream.aborted()];
    // The upstream never answers: only the failed write can end this request before the deadline.
    upstream.enqueue({ hang: true });
    const err = await gw
      .client(secret)
      .chat.completions.create({ model: 'unrecordable', messages: [{ role: 'user', content: 'hello' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    // The call was cut before it was sent, or it reached the upstream and was aborted there, not left to run.
    if (upstream.requests.length > requestsBefore) await upstream.waitForAborts(abortsBefore + 1);
    const state = await projectState(projectId);
    expect(Number(state.balance)).toBe(5);
    expect(Number(state.reserved)).toBe(0);
    expect(state.rows.filter((r) => r.status === 'reserved')).toEqual([]);
  });

  it('a stream whose row cannot be written never starts: an error status, no event stream', async () => {
    const { secret, projectId } = await gw.project({ mode: 'live', balance: '5' });
    const err = await gw
      .client(secret)
      .chat.completions.create({ model: 'unrecordable', stream: true, messages: [{ role: 'user', content: 'hello' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    const state = await projectState(projectId);
    expect(Number(state.balance)).toBe(5);
    expect(Number(state.reserved)).toBe(0);
  });

  it('the same project goes on being served and charged once its rows can be written', async () => {
    const { secret, projectId } = await gw.project({ mode: 'live', balance: '5' });
    await gw.client(secret).chat.completions.create({ model: 'unrecordable', messages: [{ role: 'user', content: 'hello' }] }).catch(() => undefined);
    const ok = await gw.client(secret).chat.completions.create({ model: 'recordable', messages: [{ role: 'user', content: 'hello' }] });
    expect(ok.choices[0]!.message.content).toBeTruthy();
    const state = await projectState(projectId);
    const settled = state.rows.filter((r) => r.modelId === 'recordable');
    expect(settled).toMatchObject([{ status: 'ok' }]);
    expect(Number(state.balance)).toBeCloseTo(5 - Number(settled[0]!.cost), 12);
    expect(Number(state.reserved)).toBe(0);
    const [ledger] = rowsOf<{ total: string }>(await gw.database.db.execute(sql`select sum(amount)::text as total from ledger_entries where project_id = ${projectId}`));
    expect(Number(ledger!.total)).toBeCloseTo(Number(state.balance), 12);
  });
});
