// The JSON body reader that decodes a body chunk by chunk must read exactly
// what Fastify's own reader read: the same values, limit and errors, whatever
// the chunks' boundaries (a UTF-8 character split between two of them).
import { request } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonBodiesIncrementally } from '../../src/rest/json-body-parser.js';

const LIMIT = 64 * 1024;
let app: FastifyInstance;
let url: URL;

beforeAll(async () => {
  app = Fastify({ bodyLimit: LIMIT });
  readJsonBodiesIncrementally(app);
  app.post('/echo', async (req) => ({ body: req.body }));
  app.setErrorHandler((error: { code?: string; statusCode?: number }, _req, reply) => reply.status(error.statusCode ?? 500).send({ code: error.code }));
  url = new URL(`${await app.listen({ port: 0, host: '127.0.0.1' })}/echo`);
});
afterAll(() => app?.close());

/** Sends `pieces` as separate writes, each handed to the socket before the next, with the given content-length (or chunked). */
function send(pieces: Buffer[], contentLength: number | 'chunked' = pieces.reduce((n, p) => n + p.length, 0)): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8' };
    if (contentLength !== 'chunked') headers['content-length'] = contentLength;
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    const next = (i: number) => {
      if (i === pieces.length) return req.end();
      req.write(pieces[i], () => setImmediate(next, i + 1));
    };
    next(0);
  });
}

/** `text` as UTF-8, cut into pieces of `size` bytes (so multi-byte characters are split between them). */
const cut = (text: string, size: number): Buffer[] => {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return pieces;
};

describe('readJsonBodiesIncrementally', () => {
  const value = { model: 'm', messages: [{ role: 'user', content: `héllo 世界 😀 ${'x'.repeat(200)} \u{1f600}\u2028 "quoted" \\ end` }] };

  it('reads a body in one piece as Fastify does', async () => {
    expect(await send([Buffer.from(JSON.stringify(value))])).toEqual({ status: 200, body: { body: value } });
  });

  it('reads a body in many pieces, characters split between them, with or without a content-length', async () => {
    for (const size of [1, 3, 7, 1000]) {
      expect(await send(cut(JSON.stringify(value), size))).toEqual({ status: 200, body: { body: value } });
    }
    expect(await send(cut(JSON.stringify(value), 5), 'chunked')).toEqual({ status: 200, body: { body: value } });
  });

  it('keeps Fastify’s errors: empty, malformed, prototype poisoning', async () => {
    expect(await send([], 0)).toEqual({ status: 400, body: { code: 'FST_ERR_CTP_EMPTY_JSON_BODY' } });
    expect(await send(cut('{"model": ', 3))).toEqual({ status: 400, body: { code: 'FST_ERR_CTP_INVALID_JSON_BODY' } });
    expect(await send(cut('{"a": {"__proto__": {"admin": true}}}', 4))).toEqual({ status: 400, body: { code: 'FST_ERR_CTP_INVALID_JSON_BODY' } });
    expect(await send(cut('{"a": {"constructor": {"prototype": {}}}}', 4))).toEqual({ status: 400, body: { code: 'FST_ERR_CTP_INVALID_JSON_BODY' } });
  });

  it('refuses a body over the limit, declared or as it arrives', async () => {
    const big = JSON.stringify({ content: 'y'.repeat(LIMIT) });
    expect(await send(cut(big, 16 * 1024))).toEqual({ status: 413, body: { code: 'FST_ERR_CTP_BODY_TOO_LARGE' } });
    expect(await send(cut(big, 16 * 1024), 'chunked')).toEqual({ status: 413, body: { code: 'FST_ERR_CTP_BODY_TOO_LARGE' } });
    const atLimit = JSON.stringify({ content: 'y'.repeat(LIMIT - 14) });
    expect(Buffer.byteLength(atLimit)).toBe(LIMIT);
    expect(await send(cut(atLimit, 16 * 1024), 'chunked')).toMatchObject({ status: 200 });
  });
});
