// GET /api/usage and /api/usage/requests/:id: what the project view reads,
// scoped to the presented key's own project.
import { describe, expect, it } from 'vitest';
import { liveModel } from '../helpers/live-routes.js';
import { useUpstream } from '../helpers/use-upstreams.js';
import { startOpenAIEmulator } from '../emulators/index.js';

const up = useUpstream(startOpenAIEmulator);

const get = async (path: string, key?: string) => {
  const res = await fetch(`${up.gw.url}${path}`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('project usage for a project key', () => {
  it('sums exact costs by bucket and by model for its own project only', async () => {
    await liveModel(up.gw, { id: 'usage-emu', upstreamModel: 'usage-emu', keys: [{ baseUrl: up.emulator.url }] });
    up.emulator.setScript({ text: 'ok', usage: { input: 1000, output: 500 } });
    const mine = await up.gw.project({ mode: 'live', balance: '10' });
    const other = await up.gw.project({ mode: 'live', balance: '10' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await up.gw.client(mine.secret).chat.completions.create({ model: 'usage-emu', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      ids.push(res.response.headers.get('x-request-id')!);
    }
    const otherCall = await up.gw.client(other.secret).chat.completions.create({ model: 'usage-emu', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    await up.gw.gateway.metering.idle();

    const { status, body } = await get('/api/usage?range=24h', mine.secret);
    expect(status).toBe(200);
    // 1000 × 1/1M + 500 × 2/1M = 0.002 per call
    expect(body.totals).toEqual({ requests: 3, errors: 0, prompt_tokens: 3000, completion_tokens: 1500, cost: '0.006' });
    expect(body.by_model).toEqual([{ model: 'usage-emu', requests: 3, errors: 0, prompt_tokens: 3000, completion_tokens: 1500, cost: '0.006' }]);
    expect(body.series).toHaveLength(24);
    expect(body.series.at(-1)).toMatchObject({ requests: 3, cost: '0.006' });
    expect(body.project).toMatchObject({ id: mine.projectId, balance: '9.994', currency: 'USD' });
    expect(Number(body.project.available)).toBeCloseTo(Number(body.project.balance) - Number(body.project.reserved), 9);
    expect(body.key).toMatchObject({ id: mine.keyId, mode: 'live' });
    expect(body.key.prefix).toMatch(/^pk_live_/);
    expect(JSON.stringify(body)).not.toContain(mine.secret);
    expect(body.recent.map((r: { id: string }) => r.id).sort()).toEqual([...ids].sort());

    const one = await get(`/api/usage/requests/${ids[0]}`, mine.secret);
    expect(one.body).toMatchObject({ id: ids[0], status: 'ok', prompt_tokens: 1000, completion_tokens: 500, cost: '0.002', test: false });
    // Another project's request looks like an unknown one.
    const foreign = await get(`/api/usage/requests/${otherCall.response.headers.get('x-request-id')}`, mine.secret);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.type).toBe('not_found_error');
  });

  it('buckets by hour for 24h, six hours for 7d, days for 30d and minutes for 1h', async () => {
    const p = await up.gw.project();
    for (const [range, buckets, seconds] of [
      ['1h', 60, 60],
      ['24h', 24, 3600],
      ['7d', 28, 21_600],
      ['30d', 30, 86_400],
    ] as const) {
      const { body } = await get(`/api/usage?range=${range}`, p.secret);
      expect(body.bucket_seconds).toBe(seconds);
      expect(body.series).toHaveLength(buckets);
    }
  });

  it('refuses a missing key, an operator token and a bad range in plain words', async () => {
    expect((await get('/api/usage')).status).toBe(401);
    const admin = await get('/api/usage', up.gw.adminToken);
    expect(admin.status).toBe(401);
    expect(admin.body.error.type).toBe('authentication_error');
    const p = await up.gw.project();
    const bad = await get('/api/usage?range=1y', p.secret);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ param: 'range', type: 'invalid_request_error' });
  });
});
