// Label values stay bounded: a model the catalogue does not have is counted
// as "unknown", whatever the client sent; projects become a label only with
// METRICS_PER_PROJECT=true; upstream keys carry their operator label.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { onPostgres } from '../helpers/test-database.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ env: { METRICS_PUBLIC: 'true', METRICS_PER_PROJECT: 'true' } });
});
afterAll(async () => gw?.close());

/** The exposition's sample lines of one metric, without HELP and TYPE. */
async function samples(name: string): Promise<string[]> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('metric labels', () => {
  it('counts a refused request for a model the catalogue lacks as model="unknown", per project', async () => {
    const { secret, projectId } = await gw.project();
    const client = gw.client(secret);
    const made_up = `made-up-${'x'.repeat(40)}`;
    await expect(client.chat.completions.create({ model: made_up, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 404 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

    const requests = await samples('gateway_requests_total');
    expect(requests).toContain(`gateway_requests_total{door="chat",model="unknown",status_class="4xx",mode="test",project="${projectId}"} 1`);
    expect(requests).toContain(`gateway_requests_total{door="chat",model="gpt-4o-mini",status_class="2xx",mode="test",project="${projectId}"} 1`);
    expect(requests.join('\n')).not.toContain(made_up);
    const tokens = await samples('gateway_tokens_total');
    expect(tokens.some((l) => l.startsWith(`gateway_tokens_total{model="gpt-4o-mini",provider="mock",kind="input",mode="test",project="${projectId}"}`))).toBe(true);
    // A test key's call goes to the mock: one attempt with no upstream key.
    expect(await samples('gateway_upstream_attempts_total')).toContain('gateway_upstream_attempts_total{provider="mock",key_id="none",key_label="none",outcome="ok"} 1');
  });

  it('reads money and queue gauges at scrape time', async () => {
    await gw.gateway.metering.idle();
    expect(await samples('gateway_open_reservations')).toEqual(['gateway_open_reservations 0']);
    expect(await samples('gateway_settlement_queue_depth')).toEqual(['gateway_settlement_queue_depth 0']);
    expect(await samples('gateway_database_up')).toEqual(['gateway_database_up 1']);
    const batches = await samples('gateway_settlement_batch_rows_count');
    expect(Number(batches[0]!.split(' ')[1])).toBeGreaterThanOrEqual(1);
  });

  it('reads the Postgres pool’s connections by state and its waiting queries (none on PGlite, which has no pool)', async () => {
    const connections = await samples('gateway_database_pool_connections');
    if (!onPostgres()) {
      expect(connections).toEqual([]);
      expect(await samples('gateway_database_pool_queued_queries')).toEqual([]);
      return;
    }
    expect(connections.map((l) => l.split(' ')[0])).toEqual(['idle', 'busy', 'full', 'reserved', 'connecting'].map((state) => `gateway_database_pool_connections{state="${state}"}`));
    // No request is in flight: nothing waits for a connection, and those open are counted in some state.
    expect(await samples('gateway_database_pool_queued_queries')).toEqual(['gateway_database_pool_queued_queries 0']);
    const open = connections.reduce((sum, l) => sum + Number(l.split(' ')[1]), 0);
    expect(open).toBeGreaterThanOrEqual(1);
    expect(open).toBeLessThanOrEqual(Number((await samples('gateway_database_pool_max'))[0]!.split(' ')[1]));
    expect(await samples('gateway_database_pool_waits_total')).toHaveLength(1);
    expect(await samples('gateway_database_pool_wait_seconds_total')).toHaveLength(1);
  });
});
