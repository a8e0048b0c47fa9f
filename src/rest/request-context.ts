import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../core/gateway.js';
import type { ClientConnection, RequestContext } from '../core/request-context.js';
import { MOCK_SCENARIO_HEADER } from '../providers/mock/mock-scenario.js';
import { presentedKey } from './authenticate.js';

/** The HTTP connection as the core sees it: gone when it closes before the response finished. */
function clientConnection(reply: FastifyReply): ClientConnection {
  let gone = false;
  let listeners: Array<() => void> = [];
  reply.raw.once('close', () => {
    if (reply.raw.writableFinished) return;
    gone = true;
    for (const listener of listeners) listener();
    listeners = [];
  });
  return {
    get gone() {
      return gone;
    },
    onGone(listener) {
      if (gone) {
        listener();
        return () => {};
      }
      listeners.push(listener);
      return () => {
        listeners = listeners.filter((l) => l !== listener);
      };
    },
  };
}

/** Authenticates the caller and ties the request to the client's connection. */
export async function requestContext(gateway: Gateway, request: FastifyRequest, reply: FastifyReply): Promise<RequestContext> {
  const key = await gateway.keys.authenticate(presentedKey(request));
  const scenario = request.headers[MOCK_SCENARIO_HEADER];
  return {
    requestId: request.id,
    key,
    client: clientConnection(reply),
    ...(key.mode === 'test' && typeof scenario === 'string' ? { hints: { [MOCK_SCENARIO_HEADER]: scenario } } : {}),
  };
}
