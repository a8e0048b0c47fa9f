import { parseTraceParent } from '@opentelemetry/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import type { Attributes } from '@opentelemetry/api';
import type { Tracing } from '../core/telemetry/tracing.js';
import type { RequestTrace } from '../core/telemetry/tracing-seams.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's trace, when tracing is on (trace-hooks.ts). */
    requestTrace?: RequestTrace | null;
  }
}

/**
 * A SERVER span per HTTP request, in the HTTP semantic conventions: opened
 * when Fastify has routed the request, ended when the response is over or
 * the client went away ('close' comes in both cases; Fastify's onResponse
 * does not come for a stream the client left). Registered only when
 * tracing is on.
 */
export function traceRequests(app: FastifyInstance, tracing: Tracing): void {
  app.decorateRequest('requestTrace', null);
  // A callback hook: an async one costs every request a promise.
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    const trace = tracing.startRequest(request.id, request.headers, route ? `${request.method} ${route}` : request.method, () => serverAttributes(request, route));
    request.requestTrace = trace;
    // An unsampled request draws no server span: nothing to end.
    if (trace.sampled) {
      const res = reply.raw;
      // 'close' comes once: `on`, not `once`, spares its wrapper and the removal.
      res.on('close', () => tracing.endRequest(trace, res.statusCode, !res.writableFinished));
    }
    done();
  });
}

/** The server span's HTTP attributes, asked for only when the request is sampled. */
function serverAttributes(request: FastifyRequest, route: string | undefined): Attributes {
  const query = request.url.indexOf('?');
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: request.method,
    [ATTR_URL_PATH]: query === -1 ? request.url : request.url.slice(0, query),
    [ATTR_URL_SCHEME]: request.protocol,
  };
  if (route) attributes[ATTR_HTTP_ROUTE] = route;
  return attributes;
}

/** tracestate as the W3C spec bounds it; anything else is not passed on. */
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

/**
 * The trace a request runs under. With tracing on, the server span's (the
 * child of the client's traceparent, if any). With tracing off, the
 * client's own trace, when it sent a valid traceparent: its trace id goes
 * on the usage row and its headers go upstream unchanged, as through any
 * proxy that draws no spans of its own.
 */
export function requestTraceOf(request: FastifyRequest, tracingOn: boolean): RequestTrace | undefined {
  if (tracingOn) return request.requestTrace ?? undefined;
  const traceparent = request.headers.traceparent;
  if (typeof traceparent !== 'string') return undefined;
  const parent = parseTraceParent(traceparent);
  if (!parent) return undefined;
  const tracestate = request.headers.tracestate;
  return {
    traceId: parent.traceId,
    passOn: typeof tracestate === 'string' && TRACESTATE.test(tracestate) ? { traceparent, tracestate } : { traceparent },
  };
}
