import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../core/gateway.js';
import type { RequestContext } from '../core/request-context.js';
import { MOCK_SCENARIO_HEADER } from '../providers/mock/mock-scenario.js';
import { presentedKey } from './authenticate.js';

/** Authenticates the caller and ties an AbortSignal to the client's connection. */
export async function requestContext(gateway: Gateway, request: FastifyRequest, reply: FastifyReply): Promise<RequestContext> {
  const key = await gateway.keys.authenticate(presentedKey(request));
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  const scenario = request.headers[MOCK_SCENARIO_HEADER];
  return {
    requestId: request.id,
    key,
    clientSignal: controller.signal,
    ...(key.mode === 'test' && typeof scenario === 'string' ? { hints: { [MOCK_SCENARIO_HEADER]: scenario } } : {}),
  };
}
