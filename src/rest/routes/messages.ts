import type { FastifyInstance } from 'fastify';
import { countMessageTokens } from '../../core/doors/messages/count-message-tokens.js';
import { createMessage } from '../../core/doors/messages/messages-door.js';
import { messagesError } from '../../core/doors/messages/render-error.js';
import type { Gateway } from '../../core/gateway.js';
import { ANTHROPIC_BETA_HINT } from '../../providers/anthropic/beta-header.js';
import { installErrorHandlers } from '../error-handler.js';
import { requestContext } from '../request-context.js';
import { writeSse } from '../write-sse.js';

/**
 * Anthropic's Messages API as a front door, in its own scope (prefix
 * `/v1/messages`) so every error under it, authentication, body parsing and
 * unknown paths included, comes back in Anthropic's shape.
 */
export async function messagesRoutes(scope: FastifyInstance, gateway: Gateway): Promise<void> {
  installErrorHandlers(scope, messagesError);

  const context = async (request: Parameters<typeof requestContext>[1], reply: Parameters<typeof requestContext>[2]) => {
    const ctx = await requestContext(gateway, request, reply);
    // The client's betas, for an Anthropic upstream to honour (the adapter keeps the ones it may pass on).
    const beta = request.headers[ANTHROPIC_BETA_HINT];
    // The new key first (no other hint is a beta): keys a literal adds after a leading spread get a hidden class of their own (docs/design.md).
    if (typeof beta === 'string' && beta) ctx.hints = { [ANTHROPIC_BETA_HINT]: beta, ...ctx.hints };
    return ctx;
  };

  scope.post('/', async (request, reply) => {
    const ctx = await context(request, reply);
    const result = await createMessage(gateway.chat, ctx, request.body);
    if (result.kind === 'json') return reply.headers(result.headers).send(result.body);

    await writeSse(request, reply, result.headers, result.events);
  });

  scope.post('/count_tokens', async (request, reply) => {
    const ctx = await context(request, reply);
    const counted = await countMessageTokens(gateway, ctx, request.body);
    return reply.header('x-gateway-token-count', counted.source).send({ input_tokens: counted.input_tokens });
  });
}
