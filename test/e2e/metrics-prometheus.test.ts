// A real Prometheus scrapes the gateway: after chat (one failed over, one
// streamed), embeddings, a test-mode call and a 402 refusal, the request,
// token and spend series it stored equal the usage rows; promtool finds
// nothing to fix in the exposition.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { usageRecords } from '../../src/db/schema.js';
import { startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { useTwoUpstreams } from '../helpers/use-upstreams.js';

const METRICS_TOKEN = 'prometheus-scrape-token-0123456789';
const hasPrometheus = spawnSync('which', ['prometheus']).status === 0 && spawnSync('which', ['promtool']).status === 0;
/** Prometheus starts, scrapes every second and answers queries well within this on a loaded machine. */
const SCRAPE_DEADLINE_MS = 60_000;

const up = useTwoUpstreams(startOpenAIEmulator, { env: { METRICS_TOKEN } });

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

let prometheus: ChildProcess | undefined;
let dataDir: string | undefined;
afterAll(() => {
  prometheus?.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function startPrometheus(target: string): Promise<(query: string) => Promise<Sample[]>> {
  dataDir = mkdtempSync(join(tmpdir(), 'gw-prometheus-'));
  const port = await freePort();
  const config = join(dataDir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: gateway',
      '    authorization:',
      '      type: Bearer',
      `      credentials: ${METRICS_TOKEN}`,
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  let log = '';
  prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dataDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  prometheus.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const query = async (q: string): Promise<Sample[]> => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`query ${q} failed: ${JSON.stringify(body)}`);
    return body.data.result;
  };
  // Polls the external process until its first scrape of the gateway is stored.
  const deadline = Date.now() + SCRAPE_DEADLINE_MS;
  for (;;) {
    const up = await query('up{job="gateway"}').catch(() => []);
    if (up.length > 0) {
      expect(up[0]!.value[1], 'the scrape of the gateway succeeded').toBe('1');
      return query;
    }
    if (prometheus.exitCode !== null || Date.now() > deadline) throw new Error(`Prometheus did not scrape the gateway: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Samples as `labels → value`, keyed by the given labels in order. */
const byLabels = (samples: Sample[], labels: string[]) => Object.fromEntries(samples.map((s) => [labels.map((l) => s.metric[l] ?? '').join('|'), Number(s.value[1])]));

const statusClass = (row: { status: string; httpStatus: number | null }) => (row.status === 'aborted' ? 'aborted' : `${Math.floor((row.httpStatus ?? 0) / 100)}xx`);

function add(into: Record<string, number>, key: string, n: number): void {
  if (n) into[key] = (into[key] ?? 0) + n;
}

describe.skipIf(!hasPrometheus)('metrics scraped by Prometheus', () => {
  it('stores request, token and spend series equal to the usage rows', async () => {
    const chatKeys = await liveModel(up.gw, { id: 'prom-chat', upstreamModel: 'prom-chat', keys: [{ baseUrl: up.a.url }, { baseUrl: up.b.url }] });
    await liveModel(up.gw, { id: 'prom-embed', kind: 'embedding', upstreamModel: 'text-embedding-3-small', keys: [{ baseUrl: up.a.url }] });
    const live = await up.gw.project({ mode: 'live', balance: '10' });
    const client = up.gw.client(live.secret);
    const hello = { model: 'prom-chat', messages: [{ role: 'user' as const, content: 'Hello Prometheus' }] };

    // A fails with a 500, B answers: one failover.
    up.a.enqueue({ status: 500 });
    up.b.setScript({ text: 'from B', usage: { input: 12, output: 7, cached: 4, reasoning: 2 } });
    const failedOver = await client.chat.completions.create(hello).withResponse();
    expect(failedOver.response.headers.get('x-gateway-attempts')).toBe('2');
    up.a.setScript({ text: 'one two three', usage: { input: 9, output: 3 }, chunks: 3 });
    up.b.setScript({ text: 'one two three', usage: { input: 9, output: 3 }, chunks: 3 });
    const stream = await client.chat.completions.create({ ...hello, stream: true, stream_options: { include_usage: true } });
    for await (const _ of stream);
    await client.embeddings.create({ model: 'prom-embed', input: ['alpha', 'beta'] });
    // Refused for balance, and a free test-mode call.
    const broke = await up.gw.project({ mode: 'live', balance: '0' });
    await expect(up.gw.client(broke.secret).chat.completions.create(hello)).rejects.toMatchObject({ status: 402 });
    const test = await up.gw.project({ mode: 'test' });
    await up.gw.client(test.secret).chat.completions.create({ ...hello, model: 'gpt-4o-mini' });
    await up.gw.gateway.metering.idle();

    const rows = await up.gw.database.db.select().from(usageRecords);
    expect(rows).toHaveLength(5);
    const requests: Record<string, number> = {};
    const tokens: Record<string, number> = {};
    const spend: Record<string, number> = {};
    for (const r of rows) {
      add(requests, [r.endpoint, r.modelId, statusClass(r), r.test ? 'test' : 'live'].join('|'), 1);
      if (r.status === 'rejected') continue;
      const key = (kind: string) => [r.modelId, r.provider ?? 'none', kind, r.test ? 'test' : 'live'].join('|');
      add(tokens, key('input'), r.promptTokens);
      add(tokens, key('cached'), r.cachedTokens);
      add(tokens, key('cache_write'), r.cacheWriteTokens);
      add(tokens, key('cache_write_1h'), r.cacheWrite1hTokens);
      add(tokens, key('output'), r.completionTokens);
      add(tokens, key('reasoning'), r.reasoningTokens);
      add(spend, [r.modelId, r.provider ?? 'none'].join('|'), Number(r.cost));
    }

    const query = await startPrometheus(new URL(up.gw.url).host);
    expect(byLabels(await query('gateway_requests_total'), ['door', 'model', 'status_class', 'mode'])).toEqual(requests);
    expect(byLabels(await query('gateway_tokens_total'), ['model', 'provider', 'kind', 'mode'])).toEqual(tokens);
    // Prometheus keeps the float sum; the usage rows keep the exact decimals.
    const spent = byLabels(await query('gateway_spend_total'), ['model', 'provider']);
    expect(Object.keys(spent).sort()).toEqual(Object.keys(spend).sort());
    for (const [k, v] of Object.entries(spend)) expect(spent[k]).toBeCloseTo(v, 12);
    expect(byLabels(await query('gateway_refused_for_balance_total'), ['mode'])).toEqual({ live: 1 });
    expect(byLabels(await query('gateway_failovers_total'), ['provider', 'outcome'])).toEqual({ 'openai|server_error': 1 });
    const attempts = byLabels(await query('gateway_upstream_attempts_total{provider="openai"}'), ['key_id', 'outcome']);
    expect(attempts[`${chatKeys[0]}|server_error`]).toBe(1);
    expect(attempts[`${chatKeys[1]}|ok`]).toBeGreaterThanOrEqual(1);
    // The GenAI convention's histogram sums to the same input and output tokens as the rows.
    const usage = byLabels(await query('sum by (gen_ai_token_type) (gen_ai_client_token_usage_sum{gen_ai_provider_name="openai"})'), ['gen_ai_token_type']);
    const live_ = rows.filter((r) => r.status === 'ok' && r.provider === 'openai');
    expect(usage).toEqual({
      input: live_.reduce((n, r) => n + r.promptTokens, 0),
      output: live_.filter((r) => r.endpoint !== 'embeddings').reduce((n, r) => n + r.completionTokens, 0),
    });
    expect(byLabels(await query('gateway_upstream_circuit_state'), ['key_id'])).toMatchObject({ [chatKeys[0]!]: 0, [chatKeys[1]!]: 0 });
    expect((await query('gen_ai_server_time_to_first_token_seconds_count'))).toHaveLength(1);
    expect((await query('nodejs_eventloop_lag_seconds'))).toHaveLength(1);
  });

  it('exposes text promtool finds nothing to fix in', async () => {
    const res = await fetch(`${up.gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const check = spawnSync('promtool', ['check', 'metrics'], { input: await res.text(), encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
    expect(check.status).toBe(0);
  });
});
