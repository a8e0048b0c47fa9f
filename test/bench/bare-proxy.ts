/**
 * The baseline: the smallest correct pass-through on the gateway's own HTTP
 * stack (Fastify in, an undici Pool out), with no auth, no validation and no
 * accounting. Bytes in, bytes out, streams piped chunk by chunk, upstream
 * aborted when the client goes away. What the gateway could at best reach.
 *
 * Routes: `/v1/chat/completions` → MOCK_FAST_URL, `/slow/v1/chat/completions`
 * → MOCK_SLOW_URL, `/drip/v1/chat/completions` → MOCK_DRIP_URL. Env: PORT. Prints `BENCH_READY <port>` once listening.
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Pool } from 'undici';
import { Cancellation } from '../../src/contract/cancel-signal.js';

const PORT = Number(process.env.PORT ?? 0);

// The same pool settings as the gateway's upstream agent.
const pool = (origin: string) =>
  new Pool(origin, { keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, headersTimeout: 300_000, bodyTimeout: 300_000 });

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

function passThrough(upstream: Pool) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    // The gateway's own kind of signal (src/core/routing/cancel-signal.ts): an
    // AbortSignal with undici's listener on it costs a pass-through ~25 %.
    const abort = new Cancellation();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort(new Error('client closed the connection'));
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (request.headers.authorization) headers.authorization = request.headers.authorization;
    const res = await upstream.request({ path: '/v1/chat/completions', method: 'POST', headers, body: request.body as Buffer, signal: abort });
    const type = res.headers['content-type'];
    reply.code(res.statusCode).header('content-type', typeof type === 'string' ? type : 'application/json');
    return reply.send(res.body);
  };
}

app.post('/v1/chat/completions', passThrough(pool(process.env.MOCK_FAST_URL!)));
app.post('/slow/v1/chat/completions', passThrough(pool(process.env.MOCK_SLOW_URL!)));
app.post('/drip/v1/chat/completions', passThrough(pool(process.env.MOCK_DRIP_URL!)));

const address = await app.listen({ port: PORT, host: '127.0.0.1', backlog: 4096 });
process.stdout.write(`BENCH_READY ${new URL(address).port}\n`);

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
