import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../core/gateway.js';
import { requestContext } from '../request-context.js';
import { writeSse } from '../write-sse.js';

export function chatRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.post('/chat/completions', async (request, reply) => {
    const ctx = await requestContext(gateway, request, reply);
    const result = await gateway.chat.complete(ctx, request.body);
    if (result.kind === 'json') return reply.headers(result.headers).send(result.body);
    await writeSse(request, reply, result.headers, result.events);
  });
}
