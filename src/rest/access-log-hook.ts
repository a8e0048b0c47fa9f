import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../core/gateway.js';
import { AccessLog } from '../core/telemetry/access-log.js';

/** Probes and scrapes arrive every few seconds and say nothing about traffic. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const MAX_PATH = 200;

/**
 * The access log: metered requests are logged by the core when they close
 * (telemetry/access-log.ts); every other answered request gets its line
 * here, when its response has been sent (401, an unknown route, a body that
 * does not parse, the admin API). Off below `info`: nothing is built then.
 */
export function accessLogHook(app: FastifyInstance, gateway: Gateway): void {
  const logger = gateway.logger as Gateway['logger'] & { isLevelEnabled?: (level: string) => boolean };
  if (logger.isLevelEnabled?.('info') === false) return;
  const accessLog = new AccessLog(logger, (id) => gateway.catalogue.get(id) !== undefined);
  gateway.metering.observe(accessLog);
  // A callback hook: an async one costs every request a promise.
  app.addHook('onResponse', (request, reply, done) => {
    if (!accessLog.reachedMetering(request.id)) {
      // The query string is never logged: a client may send its key there (?api_key=).
      const query = request.url.indexOf('?');
      const path = query === -1 ? request.url : request.url.slice(0, query);
      if (!QUIET_PATHS.has(path)) {
        logger.info(
          { requestId: request.id, method: request.method, path: path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path, httpStatus: reply.statusCode, durationMs: Math.round(reply.elapsedTime) },
          'access',
        );
      }
    }
    done();
  });
}
