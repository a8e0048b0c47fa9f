import { once } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Writes a stream of SSE frames (or, with another content type, any framed
 * stream: Gemini's JSON array) as they arrive, bypassing Fastify's
 * serializer: the status and headers first, then each frame, then the end.
 * A failure after the first byte is logged; the frames already carry the
 * door's in-stream error.
 */
export async function writeSse(
  request: FastifyRequest,
  reply: FastifyReply,
  headers: Record<string, string>,
  events: AsyncIterable<string>,
  contentType = 'text/event-stream; charset=utf-8',
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': contentType,
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
    ...headers,
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
    for await (const event of events) {
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
}
