import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { Gateway } from '../core/gateway.js';
import { DepartingClient, type RequestContext } from '../core/request-context.js';
import { HOP_HEADER } from '../core/routing/upstream-hop.js';
import { MOCK_SCENARIO_HEADER, mockScenarios, parseMockScenario } from '../providers/mock/mock-scenario.js';
import { presentedKey } from './authenticate.js';
import { requestTraceOf } from './trace-hooks.js';

/**
 * The HTTP connection as the core sees it: gone when it closes before the
 * response finished. A class, not an object literal with a `get gone()`:
 * V8 builds such a literal as a dictionary-mode object holding that
 * request's getter, and with it each request's whole graph (reply,
 * request, headers...) survived young collections into the old generation
 * (measured: 7.7 % of everything allocated at one connection, ~1 MB per
 * young GC; 1.8 % as a class; the path inside V8 was not traced).
 */
export class HttpClientConnection extends DepartingClient {
  constructor(reply: FastifyReply) {
    super();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) this.depart();
    });
  }
}

/** Authenticates the caller and ties the request to the client's connection. */
export async function requestContext(gateway: Gateway, request: FastifyRequest, reply: FastifyReply): Promise<RequestContext> {
  const key = await gateway.keys.authenticate(presentedKey(request));
  const scenario = request.headers[MOCK_SCENARIO_HEADER];
  // A misspelt trigger would otherwise answer 200, and the client's error handling would pass untested.
  if (key.mode === 'test' && typeof scenario === 'string' && scenario.trim() !== '' && !parseMockScenario(scenario)) {
    throw new GatewayError('invalid_request', `Unknown X-Mock-Scenario '${scenario.slice(0, 64)}'; valid names: ${mockScenarios.join(', ')}.`, { param: 'X-Mock-Scenario' });
  }
  const trace = requestTraceOf(request, gateway.tracing !== undefined);
  return {
    requestId: request.id,
    key,
    ...(trace ? { trace, traceId: trace.traceId } : {}),
    client: new HttpClientConnection(reply),
    // From when Fastify took the request, so admission time includes reading and parsing the body.
    // Whole milliseconds: admission_ms is an integer column, and elapsedTime has fractions.
    receivedAt: Math.round(Date.now() - reply.elapsedTime),
    attempts: [],
    ...(key.mode === 'test' && typeof scenario === 'string' ? { hints: { [MOCK_SCENARIO_HEADER]: scenario } } : {}),
    // Marks of gateways in front of this one go on upstream with ours (core/routing/upstream-hop.ts).
    ...(key.mode === 'live' && typeof request.headers[HOP_HEADER] === 'string' ? { hints: { [HOP_HEADER]: request.headers[HOP_HEADER] } } : {}),
  };
}
