// Postgres restarted under load, for real: a cluster of the test's own
// (private-postgres.ts) is stopped and started under a gateway serving live
// requests. Runs where CI runs the Postgres suite (DATABASE_URL set) and a
// server is installed to make a private cluster from.
import { eq, sql } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMoney } from '../../src/core/money.js';
import { rowsOf } from '../../src/db/rows.js';
import { projects, usageRecords } from '../../src/db/schema.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { type PrivatePostgres, postgresBin, startPrivatePostgres } from './private-postgres.js';

const enabled = !!process.env.DATABASE_URL && !!postgresBin();

interface Outcome {
  status: number;
  ms: number;
  startedAt: number;
}

describe.skipIf(!enabled)('Postgres restarted under load', () => {
  let pg: PrivatePostgres;
  let gw: TestGateway;
  let upstream: Emulator;
  beforeAll(async () => {
    [pg, upstream] = await Promise.all([startPrivatePostgres(), startOpenAIEmulator()]);
    gw = await startGateway({ databaseUrl: pg.url });
  });
  afterAll(async () => {
    // Bounded, so a gateway that cannot close still leaves no cluster behind.
    await Promise.race([gw?.close(), new Promise((resolve) => setTimeout(resolve, 20_000))]).catch(() => {});
    await upstream?.close();
    await pg?.destroy();
  }, 60_000);

  it('answers 503 at once while it is down, reconnects by itself and charges nothing twice', async () => {
    await liveModel(gw, { id: 'restart-model', upstreamModel: 'restart-model', keys: [{ baseUrl: upstream.url }] });
    upstream.setDefault({ latencyMs: 20 });
    upstream.setScript({ text: 'ok', usage: { input: 10, output: 5 } });
    const { secret, projectId } = await gw.project({ mode: 'live', balance: '10' });
    // A client that gives up long after "quickly": a hang shows as a slow outcome, not a test timeout.
    const client = gw.client(secret, { timeout: 20_000 });

    const outcomes: Outcome[] = [];
    let stopping = false;
    const okAfter = (t: number) => outcomes.find((o) => o.status === 200 && o.startedAt >= t);
    let notify: (() => void) | undefined;
    const changed = () => new Promise<void>((resolve) => (notify = resolve));
    const worker = async () => {
      while (!stopping) {
        const startedAt = Date.now();
        let status: number;
        try {
          await client.chat.completions.create({ model: 'restart-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
          status = 200;
        } catch (e) {
          status = e instanceof OpenAI.APIError ? (e.status ?? 0) : 0;
        }
        outcomes.push({ status, ms: Date.now() - startedAt, startedAt });
        notify?.();
        // Refused requests come back at once; a short pause keeps the outage's log readable.
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const workers = Array.from({ length: 6 }, () => worker());
    const until = async (done: () => boolean) => {
      while (!done()) await changed();
    };
    await until(() => outcomes.filter((o) => o.status === 200).length >= 30);

    await pg.stop();
    const downAt = Date.now();
    // Requests that start while the database is down.
    await until(() => outcomes.filter((o) => o.startedAt > downAt).length >= 30);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(503);

    // The server accepts connections before pg_ctl returns: a request may be
    // served in between, so "down" ends when the start begins.
    const startingAt = Date.now();
    await pg.start();
    const upAt = Date.now();
    await until(() => okAfter(upAt) !== undefined);
    const reconnectMs = okAfter(upAt)!.startedAt + okAfter(upAt)!.ms - upAt;
    await until(() => outcomes.filter((o) => o.status === 200 && o.startedAt > upAt).length >= 20);
    stopping = true;
    await Promise.all(workers);

    const during = outcomes.filter((o) => o.startedAt > downAt && o.startedAt + o.ms < startingAt);
    const statuses = [...new Set(outcomes.map((o) => o.status))].sort();
    console.log(
      `postgres restart: ${outcomes.length} requests, statuses ${statuses.join('/')}; while down ${during.length} requests, ` +
        `slowest ${Math.max(...during.map((o) => o.ms))} ms; first 200 ${reconnectMs} ms after the server was back`,
    );
    // Down: a 503 the client can retry on, never a 500, and at once rather than after a driver timeout.
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((o) => o.status === 503)).toBe(true);
    expect(Math.max(...during.map((o) => o.ms))).toBeLessThan(2_000);
    // Around the stop a request may also have been served before its settlement was cut off.
    expect(outcomes.every((o) => o.status === 200 || o.status === 503)).toBe(true);
    expect(reconnectMs).toBeLessThan(5_000);
    expect(await (await fetch(`${gw.url}/readyz`)).json()).toEqual({ status: 'ready' });

    // Nothing charged twice: one ledger entry per charged request at most, each at
    // its answer's cost, and the balance equals the ledger.
    await gw.gateway.metering.idle();
    const db = gw.database.db;
    const twice = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from (select request_id from ledger_entries where project_id = ${projectId} and request_id is not null group by request_id having count(*) > 1) t`),
    );
    expect(twice[0]!.n).toBe(0);
    const [project] = await db.select().from(projects).where(eq(projects.id, projectId));
    const [ledger] = rowsOf<{ total: string }>(await db.execute(sql`select sum(amount)::text as total from ledger_entries where project_id = ${projectId}`));
    expect(parseMoney(ledger!.total)).toBe(parseMoney(project!.balance));
    const rows = await db.select({ status: usageRecords.status, cost: usageRecords.cost }).from(usageRecords).where(eq(usageRecords.projectId, projectId));
    const served = outcomes.filter((o) => o.status === 200).length;
    const charged = rows.filter((r) => r.status === 'ok');
    // Every answer the clients got was charged exactly once: 10 prompt tokens at 1 per 1M
    // plus 5 completion tokens at 2 per 1M = 0.00002 each.
    expect(charged).toHaveLength(served);
    expect(charged.every((r) => parseMoney(r.cost!) === parseMoney('0.00002'))).toBe(true);
    // No reservation is left open once the gateway is idle again.
    expect(rows.filter((r) => r.status === 'reserved')).toHaveLength(0);
    expect(parseMoney(project!.balance)).toBe(parseMoney('10') - BigInt(served) * parseMoney('0.00002'));
  }, 120_000);
});
