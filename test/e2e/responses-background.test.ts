import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMoney } from '../../src/core/money.js';
import { ledgerEntries, usageRecords } from '../../src/db/schema.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { type GatewayProcess, spawnGateway } from '../helpers/gateway-process.js';
import { liveModel } from '../helpers/live-routes.js';
import { openapiErrors } from '../helpers/openapi.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { onPostgres } from '../helpers/test-database.js';

/**
 * An OpenAI-wire upstream that streams `pieces` at once and then holds the
 * stream open until the caller goes away: a response with something
 * produced and still running, for as long as a test needs.
 */
async function startHoldingUpstream(pieces: string[]): Promise<{ url: string; sent: Promise<void>; aborted: Promise<void>; close(): Promise<void> }> {
  let markSent!: () => void;
  let markAborted!: () => void;
  const sent = new Promise<void>((r) => (markSent = r));
  const aborted = new Promise<void>((r) => (markAborted = r));
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: object) => ({ id: 'chatcmpl-hold', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }] });
      res.write(`data: ${JSON.stringify(chunk({ role: 'assistant', content: '' }))}\n\n`);
      for (const piece of pieces) res.write(`data: ${JSON.stringify(chunk({ content: piece }))}\n\n`, () => undefined);
      res.write('', () => markSent());
      res.on('close', () => markAborted());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    sent,
    aborted,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let one: TestGateway;
let two: TestGateway;
let upstream: Emulator;
const cleanups: Array<() => Promise<unknown>> = [];
const HEARTBEAT = '2';

beforeAll(async () => {
  upstream = await startOpenAIEmulator();
  // A fast heartbeat: a killed replica is found dead within seconds (three
  // missed beats), yet not so fast that a busy test machine looks dead.
  one = await startGateway({ env: { REPLICA_HEARTBEAT_SECONDS: HEARTBEAT } });
  two = onPostgres() ? await startGateway({ databaseUrl: one.databaseUrl!, encryptionKey: one.encryptionKey, env: { REPLICA_HEARTBEAT_SECONDS: HEARTBEAT } }) : one;
  await liveModel(one, { id: 'bg-model', upstreamModel: 'bg-model', keys: [{ baseUrl: upstream.url }] });
  await Promise.all([two.gateway.catalogue.reload(), two.gateway.pool.reload()]);
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  if (two !== one) await two?.close();
  await one?.close();
  await upstream?.close();
});

const valid = (value: unknown) => expect(openapiErrors('Response', JSON.parse(JSON.stringify(value)))).toEqual([]);

/** Cost in pico-units at the test models' prices: 1 per 1M input tokens, 2 per 1M output. */
const costOf = (row: { promptTokens: number; completionTokens: number }) => BigInt(row.promptTokens) * 1_000_000n + BigInt(row.completionTokens) * 2_000_000n;

async function holdingModel(id: string, pieces: string[]) {
  const holder = await startHoldingUpstream(pieces);
  cleanups.push(() => holder.close());
  await liveModel(one, { id, upstreamModel: id, keys: [{ baseUrl: holder.url }] });
  if (two !== one) await Promise.all([two.gateway.catalogue.reload(), two.gateway.pool.reload()]);
  return holder;
}

describe('background responses', () => {
  it('returns queued at once, runs to completed, and is billed as usual', async () => {
    upstream.reset();
    upstream.setScript({ text: 'done in the background', usage: { input: 12, output: 5 } });
    const { secret, projectId } = await one.project({ mode: 'live' });
    const client = one.client(secret);
    const created = await client.responses.create({ model: 'bg-model', input: 'work on this', background: true, max_output_tokens: 50 });
    expect(created.status).toBe('queued');
    expect(created.background).toBe(true);
    valid(created);
    await one.gateway.backgroundResponses.idle();
    const done = await client.responses.retrieve(created.id);
    valid(done);
    expect(done).toMatchObject({ status: 'completed', background: true, usage: { input_tokens: 12, output_tokens: 5 } });
    expect(done.output_text).toBe('done in the background');
    await one.gateway.metering.idle();
    const [row] = await one.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId));
    expect(row).toMatchObject({ endpoint: 'responses', status: 'ok', promptTokens: 12, completionTokens: 5 });
    expect(parseMoney(row!.cost)).toBe(costOf(row!));
    const charges = await one.database.db.select().from(ledgerEntries).where(eq(ledgerEntries.requestId, row!.id));
    expect(charges.map((c) => -parseMoney(c.amount))).toEqual([costOf(row!)]);
  });

  it('ends failed, with the refusal as its error, when admission refuses it', async () => {
    const { secret } = await one.project({ mode: 'live', balance: '0' });
    const client = one.client(secret);
    const created = await client.responses.create({ model: 'bg-model', input: 'no money', background: true, max_output_tokens: 50 });
    expect(created.status).toBe('queued');
    await one.gateway.backgroundResponses.idle();
    const failed = await client.responses.retrieve(created.id);
    valid(failed);
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toMatch(/balance|quota|insufficient/i);
  });

  it('stops on cancel: the upstream call is aborted, what was produced is kept and settled, status cancelled', async () => {
    const holder = await holdingModel('bg-hold', ['Once ', 'upon ', 'a time']);
    const { secret, projectId } = await one.project({ mode: 'live' });
    const client = one.client(secret);
    const created = await client.responses.create({ model: 'bg-hold', input: 'tell a long story', background: true, max_output_tokens: 100 });
    await holder.sent;
    const cancelled = await client.responses.cancel(created.id);
    valid(cancelled);
    expect(cancelled.status).toBe('cancelled');
    await holder.aborted;
    await one.gateway.backgroundResponses.idle();
    const stored = await client.responses.retrieve(created.id);
    expect(stored.status).toBe('cancelled');
    expect(stored.output_text).toBe('Once upon a time');
    // Cancelling again answers the same; a finished response cannot be cancelled.
    expect((await client.responses.cancel(created.id)).status).toBe('cancelled');
    await one.gateway.metering.idle();
    const [row] = await one.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId));
    expect(row).toMatchObject({ endpoint: 'responses', status: 'aborted' });
    expect(row!.settledAt).not.toBeNull();
    expect(row!.completionTokens).toBeGreaterThan(0);
    expect(parseMoney(row!.cost)).toBe(costOf(row!));
  });

  it('refuses to cancel a finished background response', async () => {
    upstream.reset();
    const { secret } = await one.project();
    const client = one.client(secret);
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'quick', background: true });
    await one.gateway.backgroundResponses.idle();
    expect((await client.responses.retrieve(created.id)).status).toBe('completed');
    const e = await client.responses.cancel(created.id).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it.skipIf(!onPostgres())('is cancelled from another replica: the one running it hears of it and stops', async () => {
    const holder = await holdingModel('bg-hold-2', ['Across ', 'replicas']);
    const { secret, projectId } = await one.project({ mode: 'live' });
    const created = await one.client(secret).responses.create({ model: 'bg-hold-2', input: 'go', background: true, max_output_tokens: 100 });
    await holder.sent;
    expect(one.gateway.backgroundResponses.running).toBe(1);
    const cancelled = await two.client(secret).responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    await holder.aborted;
    await one.gateway.backgroundResponses.idle();
    const stored = await two.client(secret).responses.retrieve(created.id);
    expect(stored).toMatchObject({ status: 'cancelled' });
    expect(stored.output_text).toBe('Across replicas');
    await one.gateway.metering.idle();
    const [row] = await one.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId));
    expect(row).toMatchObject({ status: 'aborted' });
    expect(parseMoney(row!.cost)).toBe(costOf(row!));
  });

  it.skipIf(!onPostgres())('of a replica killed mid-work ends failed after recovery, its reservation charged by the recovery rule', async () => {
    const holder = await holdingModel('bg-hold-3', ['partial ']);
    const { secret, projectId } = await one.project({ mode: 'live' });
    const doomed: GatewayProcess = await spawnGateway({
      DATABASE_URL: one.databaseUrl!,
      ENCRYPTION_KEY: one.encryptionKey,
      ADMIN_TOKEN: `gwa_${randomBytes(12).toString('hex')}`,
      REPLICA_HEARTBEAT_SECONDS: HEARTBEAT,
    });
    cleanups.push(async () => doomed.child.kill('SIGKILL'));
    const client = new OpenAI({ apiKey: secret, baseURL: `${doomed.url}/v1`, maxRetries: 0 });
    const created = await client.responses.create({ model: 'bg-hold-3', input: 'never finishes', background: true, max_output_tokens: 100 });
    await holder.sent;
    // The reservation row is written alongside the upstream call (group-committed); kill once it has landed.
    await expect
      .poll(async () => (await one.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId)))[0]?.status, { timeout: 10_000, interval: 100 })
      .toBe('reserved');
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // The surviving replica's recovery pass (every two heartbeats) finds the dead one.
    const survivor = one.client(secret);
    await expect.poll(async () => (await survivor.responses.retrieve(created.id)).status, { timeout: 30_000, interval: 250 }).toBe('failed');
    const failed = await survivor.responses.retrieve(created.id);
    valid(failed);
    expect(failed.error).toMatchObject({ code: 'server_error' });
    await expect
      .poll(async () => (await one.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId)))[0]?.status, { timeout: 30_000, interval: 250 })
      .toBe('aborted');
    const [row] = await one.database.db.select().from(usageRecords).where(eq(usageRecords.projectId, projectId));
    expect(row).toMatchObject({ errorCode: 'recovered', completionTokens: 0 });
    expect(parseMoney(row!.cost)).toBe(BigInt(row!.promptTokens) * 1_000_000n);
  }, 120_000);
});
