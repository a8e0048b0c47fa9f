import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../core/errors.js';
import type { Gateway } from '../../core/gateway.js';
import { type GatewayMetrics, startGatewayMetrics } from '../../core/telemetry/metrics.js';

// GET /metrics in Prometheus' text format. Readable with an operator token
// (admin or viewer), with METRICS_TOKEN, or by anyone when METRICS_PUBLIC.
// With METRICS_PORT it is served on that port only, by a small server of its
// own, so the public port can stay closed to scrapers.

const METRICS_PATH = '/metrics';

const bearer = (header: string | undefined): string | undefined => {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
};

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Undefined when the caller may read the metrics, else the error to answer. */
type MetricsAccess = (authorization: string | undefined) => Promise<GatewayError | undefined>;

function metricsAccess(gateway: Gateway): MetricsAccess {
  const { METRICS_PUBLIC, METRICS_TOKEN } = gateway.config;
  const tokenDigest = METRICS_TOKEN ? digest(METRICS_TOKEN) : undefined;
  return async (authorization) => {
    if (METRICS_PUBLIC) return undefined;
    const token = bearer(authorization);
    if (!token) return new GatewayError('authentication', 'Metrics need a bearer token: an operator token or METRICS_TOKEN.');
    if (tokenDigest && timingSafeEqual(digest(token), tokenDigest)) return undefined;
    if (token.startsWith('pk_')) return new GatewayError('permission', 'Project API keys cannot read metrics; send an operator token or METRICS_TOKEN.');
    if (await gateway.adminTokens.verify(token)) return undefined;
    return new GatewayError('authentication', 'The token is not valid for metrics (unknown or revoked).');
  };
}

const challenge = { 'www-authenticate': 'Bearer realm="metrics"' };

export async function metricsRoutes(app: FastifyInstance, gateway: Gateway): Promise<void> {
  const { config } = gateway;
  if (!config.METRICS_ENABLED) return;
  const metrics = startGatewayMetrics(gateway);
  app.addHook('onClose', async () => metrics.close());
  const access = metricsAccess(gateway);

  if (config.METRICS_PORT === undefined) {
    app.get(METRICS_PATH, async (request, reply) => {
      const refused = await access(request.headers.authorization);
      if (refused) return reply.status(refused.status).headers(challenge).send(refused.toBody());
      return reply.type(metrics.contentType).send(await metrics.render());
    });
    return;
  }

  const server = createServer((req, res) => void serveMetrics(req, res, metrics, access));
  server.on('error', (err) => gateway.logger.error({ err }, 'metrics server failed'));
  app.addHook('onListen', async () => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.METRICS_PORT, config.HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    gateway.logger.info({ address: `http://${config.HOST}:${config.METRICS_PORT}${METRICS_PATH}` }, 'metrics listening');
  });
  app.addHook('onClose', async () => {
    if (!server.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

async function serveMetrics(req: IncomingMessage, res: ServerResponse, metrics: GatewayMetrics, access: MetricsAccess): Promise<void> {
  const send = (status: number, headers: Record<string, string>, body: string) => {
    res.writeHead(status, headers);
    res.end(body);
  };
  const json = { 'content-type': 'application/json; charset=utf-8' };
  try {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      const error = new GatewayError('not_found', `Unknown route: ${req.method} ${path}; this port serves GET ${METRICS_PATH} only.`);
      send(error.status, json, JSON.stringify(error.toBody()));
      return;
    }
    const refused = await access(req.headers.authorization);
    if (refused) {
      send(refused.status, { ...json, ...challenge }, JSON.stringify(refused.toBody()));
      return;
    }
    send(200, { 'content-type': metrics.contentType }, await metrics.render());
  } catch {
    const error = new GatewayError('internal', 'The metrics could not be collected.');
    if (!res.headersSent) send(error.status, json, JSON.stringify(error.toBody()));
    else res.destroy();
  }
}
