import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../core/gateway.js';
import { requestContext } from '../request-context.js';

export function embeddingRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.post('/embeddings', async (request, reply) => {
    const ctx = await requestContext(gateway, request, reply);
    const result = await gateway.embeddings.embed(ctx, request.body);
    return reply.headers(result.headers).send(result.body);
  });
}
