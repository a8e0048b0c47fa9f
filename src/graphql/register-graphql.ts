import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Gateway } from '../core/gateway.js';
import type { GraphQLServerOptions } from './create-graphql-server.js';
import type { GraphQLHandlers } from './graphql-handlers.js';

export type RegisterGraphQLOptions = Omit<GraphQLServerOptions, 'shutdown'>;

// create-graphql-server.ts exports the same path; importing it here would load what this file defers.
const GRAPHQL_PATH = '/graphql';
/** graphql-ws closes with 1011 too when its own handler fails. */
const INTERNAL_ERROR = 1011;

/**
 * Serves the admin API at /graphql on the app: GET/POST (and SSE
 * subscriptions) through yoga, and graphql-ws on the same path
 * (graphql-handlers.ts). The routes exist from the start, but graphql,
 * yoga, Pothos and the schema are loaded and built on the first request to
 * /graphql: ~20 MB of heap that a replica serving only the API (and the
 * dashboard until someone opens it) never needs. The first request waits
 * for that (~0.3 s).
 */
export async function registerGraphQL(app: FastifyInstance, gateway: Gateway, options: RegisterGraphQLOptions = {}): Promise<void> {
  const shutdown = new AbortController();
  let loading: Promise<GraphQLHandlers> | undefined;
  const handlers = (): Promise<GraphQLHandlers> => {
    loading ??= import('./graphql-handlers.js').then(({ createGraphQLHandlers }) => createGraphQLHandlers(gateway, { ...options, shutdown: shutdown.signal }));
    // A failed load is retried by the next request rather than cached forever.
    loading.catch(() => (loading = undefined));
    return loading;
  };
  let loaded: GraphQLHandlers | undefined;
  const ready = async () => (loaded ??= await handlers());

  const http = async (req: FastifyRequest, reply: FastifyReply) => (await ready()).http(req, reply);

  // The socket is open before the handler exists: messages that arrive while
  // it loads are held and replayed to it in order.
  function ws(this: FastifyInstance, socket: WebSocket, request: FastifyRequest): void {
    if (loaded) {
      void loaded.ws.call(this, socket, request);
      return;
    }
    const held: Array<[Buffer | ArrayBuffer | Buffer[], boolean]> = [];
    const hold = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => held.push([data, isBinary]);
    socket.on('message', hold);
    socket.pause();
    ready().then(
      (h) => {
        socket.off('message', hold);
        if (socket.readyState !== socket.OPEN) return;
        void h.ws.call(this, socket, request);
        for (const [data, isBinary] of held) socket.emit('message', data, isBinary);
        socket.resume();
      },
      (err: unknown) => {
        request.log.error({ err }, 'graphql failed to load');
        socket.close(INTERNAL_ERROR, 'Internal server error');
      },
    );
  }

  app.addHook('preClose', async () => {
    shutdown.abort();
  });
  await app.register(async (scope) => {
    await scope.register(fastifyWebsocket, { options: { maxPayload: 1024 * 1024 } });
    scope.route({ method: 'GET', url: GRAPHQL_PATH, handler: http, wsHandler: ws });
    scope.route({ method: ['POST', 'OPTIONS'], url: GRAPHQL_PATH, handler: http });
  });
}
