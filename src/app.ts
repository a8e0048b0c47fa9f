import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Gateway } from './core/gateway.js';
import { registerGraphQL } from './graphql/register-graphql.js';
import { newOrderedId } from './contract/ids.js';
import { accessLogHook } from './rest/access-log-hook.js';
import { clientErrorHandler } from './rest/client-error-handler.js';
import { capConnectionsPerAddress } from './rest/connection-cap.js';
import { frameworkErrors, installErrorHandlers } from './rest/error-handler.js';
import { readJsonBodiesIncrementally } from './rest/json-body-parser.js';
import { loopGuard } from './rest/loop-guard.js';
import { balanceRoutes } from './rest/routes/balance.js';
import { chatRoutes } from './rest/routes/chat.js';
import { embeddingRoutes } from './rest/routes/embeddings.js';
import { geminiRoutes } from './rest/routes/gemini.js';
import { healthRoutes } from './rest/routes/health.js';
import { messagesRoutes } from './rest/routes/messages.js';
import { metricsRoutes } from './rest/routes/metrics.js';
import { modelRoutes } from './rest/routes/models.js';
import { projectUsageRoutes } from './rest/routes/project-usage.js';
import { responsesRoutes } from './rest/routes/responses.js';
import { responseStateRoutes } from './rest/routes/responses-state.js';
import { webRoutes } from './rest/routes/web.js';
import { serverTimeouts } from './rest/server-timeouts.js';
import { traceRequests } from './rest/trace-hooks.js';

export interface BuildAppOptions {
  /** A pino logger instance; Fastify's own request logging stays off (no per-request log lines). */
  logger?: import('fastify').FastifyBaseLogger;
}

/** Builds the HTTP app (REST, health) around a gateway; never listens. */
export async function buildApp(gateway: Gateway, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : {}),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: gateway.config.BODY_LIMIT_BYTES,
    ...serverTimeouts(gateway.config),
    clientErrorHandler,
    frameworkErrors,
    genReqId: () => newOrderedId('req'),
    requestIdHeader: false,
    trustProxy: true,
  });
  capConnectionsPerAddress(app.server, gateway.config.MAX_CONNECTIONS_PER_ADDRESS);
  readJsonBodiesIncrementally(app);
  // A callback hook: an async one costs every request a promise for one header.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  if (gateway.tracing) traceRequests(app, gateway.tracing);
  app.addHook('onRequest', loopGuard(gateway));
  installErrorHandlers(app);

  healthRoutes(app, gateway);
  accessLogHook(app, gateway);
  await metricsRoutes(app, gateway);
  for (const prefix of ['/v1', '/api/v1']) {
    await app.register(
      async (scope) => {
        chatRoutes(scope, gateway);
        embeddingRoutes(scope, gateway);
        responsesRoutes(scope, gateway);
        modelRoutes(scope, gateway);
        balanceRoutes(scope, gateway);
        projectUsageRoutes(scope, gateway);
        responseStateRoutes(scope, gateway);
      },
      { prefix },
    );
    // Its own scope: errors under /v1/messages take Anthropic's shape.
    await app.register(async (scope) => messagesRoutes(scope, gateway), { prefix: `${prefix}/messages` });
  }
  // Balance and usage were first served under /api alone; the dashboard still reads /api/usage.
  await app.register(
    async (scope) => {
      balanceRoutes(scope, gateway);
      projectUsageRoutes(scope, gateway);
    },
    { prefix: '/api' },
  );
  // The Gemini door: Google's paths, its auth and its error shape, in scopes of its own.
  await app.register(async (scope) => geminiRoutes(scope, gateway, '/models/*'), { prefix: '/v1beta' });
  await app.register(async (scope) => geminiRoutes(scope, gateway, '/*'), { prefix: '/v1/models' });
  await registerGraphQL(app, gateway);
  webRoutes(app);
  return app;
}
