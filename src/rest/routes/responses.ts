import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../core/gateway.js';
import { requestContext } from '../request-context.js';
import { writeSse } from '../write-sse.js';

/** POST /v1/responses. Errors are OpenAI's error body, the scope's default. */
export function responsesRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.post('/responses', async (request, reply) => {
    const ctx = await requestContext(gateway, request, reply);
    const result = await gateway.responses.create(ctx, request.body);
    if (result.kind === 'json') return reply.headers(result.headers).send(result.body);
    await writeSse(request, reply, result.headers, result.events);
  });
}
