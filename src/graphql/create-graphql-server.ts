import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Operator } from '../core/admin/admin-tokens.js';
import type { Gateway } from '../core/gateway.js';
import type { GraphQLContext } from './context.js';
import { makeMaskError } from './errors.js';
import { schema } from './schema/index.js';
import { useTextArguments } from './use-text-arguments.js';
import { useOperatorAuth, type OperatorLookup } from './use-operator-auth.js';
import { DEFAULT_QUERY_LIMITS, type QueryLimits, useQueryLimits } from './use-query-limits.js';
import { useRefusalLog } from './use-refusal-log.js';

export const GRAPHQL_PATH = '/graphql';
/** The header yoga's CSRF prevention asks of requests a browser could send cross-site without a preflight. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

export interface GraphQLServerOptions {
  /** Ends live feeds when the server closes. */
  shutdown: AbortSignal;
  /** Heartbeat of the providerHealth subscription; 10 s by default. */
  healthHeartbeatMs?: number;
  limits?: QueryLimits;
}

export interface FastifyServerContext {
  req: FastifyRequest;
  reply: FastifyReply;
}

/** What graphql-ws puts into the initial context: the operator verified at connection time. */
export interface WebSocketInitialContext {
  operator: Operator;
}

export type GraphQLServer = YogaServerInstance<FastifyServerContext, GraphQLContext>;

const bearer = (header: string | null): string | undefined => {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
};

/** Looks the operator up once per HTTP request (the auth plugin and the context both ask). */
function operatorLookup(gateway: Gateway): OperatorLookup {
  const seen = new WeakMap<Request, ReturnType<OperatorLookup>>();
  return (request) => {
    let found = seen.get(request);
    if (!found) {
      const token = bearer(request.headers.get('authorization'));
      found = (async () => {
        if (!token) return { operator: null, presented: 'none' as const };
        if (token.startsWith('pk_')) return { operator: null, presented: 'project-key' as const };
        return { operator: (await gateway.adminTokens.verify(token)) ?? null, presented: 'token' as const };
      })();
      seen.set(request, found);
    }
    return found;
  };
}

/**
 * The GraphQL admin API as a yoga server (no transport of its own: Fastify
 * routes HTTP and SSE to it, graphql-ws goes through `getEnveloped`).
 */
export function createGraphQLServer(gateway: Gateway, options: GraphQLServerOptions): GraphQLServer {
  const lookup = operatorLookup(gateway);
  const limits = options.limits ?? DEFAULT_QUERY_LIMITS;
  return createYoga<FastifyServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    batching: false,
    // yoga's GraphiQL page loads its scripts from a CDN; the dashboard is the
    // gateway's own console, and tools can take schema/schema.graphql.
    graphiql: false,
    maskedErrors: { maskError: makeMaskError(gateway.logger), errorMessage: 'Unexpected error.', isDev: false },
    logging: {
      debug: () => {},
      info: () => {},
      warn: (...args: unknown[]) => gateway.logger.warn({ detail: args }, 'graphql'),
      // yoga reports here every error the mask replaced, which the mask has
      // already logged at its level (errors.ts); a second line, with a
      // stack, would turn an operator's typo into an incident.
      error: (...args: unknown[]) => gateway.logger.debug({ detail: args.map(String) }, 'graphql error (logged by the mask)'),
    },
    context: async (initial) => {
      const fromSocket = (initial as Partial<WebSocketInitialContext>).operator;
      const operator = fromSocket ?? (initial.request ? (await lookup(initial.request)).operator : null);
      return { gateway, operator, shutdown: options.shutdown, healthHeartbeatMs: options.healthHeartbeatMs ?? 10_000 };
    },
    plugins: [
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      useOperatorAuth({ lookup, logger: gateway.logger }),
      useQueryLimits(limits, gateway.logger),
      useRefusalLog(gateway.logger),
      useTextArguments(),
    ],
  });
}
