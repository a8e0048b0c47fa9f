// Who may read GET /metrics: operator tokens (admin and viewer), the
// METRICS_TOKEN, anyone with METRICS_PUBLIC; nobody else. METRICS_PORT moves
// it to a port of its own; METRICS_ENABLED=false removes it.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

const scrape = (url: string, token?: string) => fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

/** A port nobody listens on right now (the gateway binds it a moment later). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('/metrics access', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ env: { METRICS_TOKEN } });
  });
  afterAll(async () => gw?.close());

  it('refuses a caller without a token, with a bad token or with a project key', async () => {
    const none = await scrape(gw.url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await none.json()) as { error: { message: string } }).error.message).toContain('bearer token');
    expect((await scrape(gw.url, 'not-a-valid-token-at-all')).status).toBe(401);
    const { secret } = await gw.project();
    expect((await scrape(gw.url, secret)).status).toBe(403);
  });

  it('serves the exposition to an admin token, a viewer token and METRICS_TOKEN', async () => {
    const viewer = await gw.gateway.adminTokens.create('metrics viewer', 'viewer');
    for (const token of [gw.adminToken, viewer.secret, METRICS_TOKEN]) {
      const res = await scrape(gw.url, token);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
      expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
      expect(text).toContain('# TYPE gateway_requests_total counter');
      expect(text).toContain('gateway_open_reservations 0');
    }
  });
});

describe('/metrics options', () => {
  it('is open to anyone with METRICS_PUBLIC=true', async () => {
    const gw = await startGateway({ env: { METRICS_PUBLIC: 'true' } });
    try {
      expect((await scrape(gw.url)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('is served on METRICS_PORT only, with the same rules, when that is set', async () => {
    const port = await freePort();
    const gw = await startGateway({ env: { METRICS_PORT: String(port), METRICS_TOKEN } });
    try {
      const own = `http://127.0.0.1:${port}`;
      expect((await scrape(own)).status).toBe(401);
      const res = await scrape(own, METRICS_TOKEN);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('gateway_requests_total');
      expect((await scrape(own, gw.adminToken)).status).toBe(200);
      expect((await fetch(`${own}/v1/models`)).status).toBe(404);
      expect((await scrape(gw.url, METRICS_TOKEN)).status).toBe(404);
    } finally {
      await gw.close();
    }
    // Closed with the app.
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('does not exist with METRICS_ENABLED=false', async () => {
    const gw = await startGateway({ env: { METRICS_ENABLED: 'false', METRICS_PUBLIC: 'true' } });
    try {
      expect((await scrape(gw.url)).status).toBe(404);
    } finally {
      await gw.close();
    }
  });
});
