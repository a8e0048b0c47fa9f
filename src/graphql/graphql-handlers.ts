import type { WebsocketHandler } from '@fastify/websocket';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type DocumentNode, type ExecutionArgs, GraphQLError } from 'graphql/index.js';
import { CloseCode, type OperationResult } from 'graphql-ws';
import { makeHandler } from 'graphql-ws/use/@fastify/websocket';
import type { Operator } from '../core/admin/admin-tokens.js';
import type { Gateway } from '../core/gateway.js';
import { createGraphQLServer, type GraphQLServer, type GraphQLServerOptions } from './create-graphql-server.js';

export interface GraphQLHandlers {
  yoga: GraphQLServer;
  http: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
  ws: WebsocketHandler;
}

/** How long a socket may wait before sending connection_init with its token. */
const CONNECTION_INIT_TIMEOUT_MS = 5_000;

/** The operator token from graphql-ws connectionParams: `authorization` ("Bearer …" or bare) or `token`. */
export function tokenFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  const raw = params.authorization ?? params.Authorization ?? params.token;
  if (typeof raw !== 'string' || !raw.trim()) return undefined;
  return raw.trim().replace(/^Bearer\s+/i, '');
}

/**
 * The admin API's two handlers for /graphql: HTTP (GET/POST, SSE
 * subscriptions) through yoga, and graphql-ws on the same path. A socket
 * without a token is closed with 4401, one with an invalid token with 4403.
 * Loaded on the first /graphql request (see register-graphql.ts): building
 * the schema and yoga costs memory a replica serving only the API never needs.
 */
export function createGraphQLHandlers(gateway: Gateway, options: GraphQLServerOptions): GraphQLHandlers {
  const yoga = createGraphQLServer(gateway, options);

  const http = async (req: FastifyRequest, reply: FastifyReply) => {
    const response = await yoga.handleNodeRequestAndResponse(req, reply, { req, reply });
    response.headers.forEach((value, key) => {
      reply.header(key, value);
    });
    reply.status(response.status);
    reply.send(response.body);
    return reply;
  };

  const ws = makeHandler<Record<string, unknown>, { operator: Operator }>({
    connectionInitWaitTimeout: CONNECTION_INIT_TIMEOUT_MS,
    onConnect: async (ctx) => {
      const token = tokenFromConnectionParams(ctx.connectionParams);
      if (!token) {
        ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized: send the operator token in connectionParams.authorization');
        return false;
      }
      const operator = token.startsWith('pk_') ? undefined : await gateway.adminTokens.verify(token);
      if (!operator) {
        ctx.extra.socket.close(CloseCode.Forbidden, 'Forbidden: the operator token is not valid');
        return false;
      }
      (ctx.extra as { operator?: Operator }).operator = operator;
      return true;
    },
    // onSubscribe returns args carrying yoga's enveloped execute/subscribe, so plugins (auth, masking) run here too.
    execute: (args) => (args as EnvelopedArgs).execute(args),
    subscribe: (args) => (args as EnvelopedArgs).subscribe(args),
    onSubscribe: async (ctx, _id, payload) => {
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params: payload,
        operator: ctx.extra.operator,
      } as never);
      let document: DocumentNode;
      try {
        document = parse(payload.query);
      } catch (error) {
        // A syntax error or a document over the token limit: an error message to the client, not a closed socket.
        if (error instanceof GraphQLError) return [error];
        throw error;
      }
      const args: EnvelopedArgs = {
        schema,
        operationName: payload.operationName ?? null,
        document,
        variableValues: payload.variables ?? null,
        contextValue: await contextFactory(),
        execute: execute as EnvelopedArgs['execute'],
        subscribe: subscribe as EnvelopedArgs['subscribe'],
      };
      const errors = validate(args.schema, args.document);
      if (errors.length > 0) return errors;
      return args;
    },
  });

  return { yoga, http, ws };
}

interface EnvelopedArgs extends ExecutionArgs {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
}
