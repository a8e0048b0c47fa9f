import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../../core/gateway.js';
import { requestContext } from '../request-context.js';

export function chatRoutes(app: FastifyInstance, gateway: Gateway): void {
  app.post('/chat/completions', async (request, reply) => {
    const ctx = await requestContext(gateway, request, reply);
    const result = await gateway.chat.complete(ctx, request.body);
    if (result.kind === 'json') return reply.headers(result.headers).send(result.body);

    // Streams bypass Fastify's serializer: each event is written as it arrives.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
      ...result.headers,
    });
    // Events that arrive together (one upstream read often holds many) leave
    // in one write: the socket is corked until the current burst of
    // microtasks is done, instead of a system call per event.
    let corked = false;
    const uncork = () => {
      corked = false;
      res.uncork();
    };
    try {
      for await (const event of result.events) {
        if (res.destroyed) break;
        if (!corked) {
          corked = true;
          res.cork();
          process.nextTick(uncork);
        }
        if (!res.write(event)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
    } catch (err) {
      request.log.error({ err, requestId: request.id }, 'stream failed');
    } finally {
      res.end();
    }
  });
}
