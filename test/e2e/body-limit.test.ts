// Finding 6 of issue 20: a body over BODY_LIMIT_BYTES must reach real SDK
// clients as a 413, while a body far over the limit is cut off without the
// gateway reading or keeping it. The gateway runs as its own process: in the
// test's process the client and the server share one event loop, and the
// connection errors the SDKs saw (the socket closed under a client still
// writing) do not happen.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, spawnGateway } from '../helpers/gateway-process.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';

const MiB = 1024 * 1024;
const LIMIT = 4 * MiB; // the default

const cleanups: Array<() => unknown> = [];
let gateway: GatewayProcess;
beforeAll(async () => {
  const env: Record<string, string> = { ENCRYPTION_KEY: randomBytes(32).toString('hex') };
  if (onPostgres()) {
    const pg = await createTestDatabase();
    cleanups.push(() => pg.drop());
    env.DATABASE_URL = pg.url;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'gw-body-limit-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    env.DATA_DIR = dir;
    env.DATABASE_URL = '';
  }
  gateway = await spawnGateway(env);
  cleanups.push(async () => {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
  });
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The gateway process's resident memory (Linux). */
function gatewayRss(): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/**
 * Sends a body of `total` bytes on a raw connection, a reused 64 KiB piece
 * at a time as fast as the socket takes it, until the server closes.
 */
async function pushBody(chunked: boolean, total: number): Promise<{ written: number; response: string }> {
  const { hostname, port } = new URL(gateway.url);
  const socket = connect(Number(port), hostname);
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
  socket.on('error', () => {}); // EPIPE / ECONNRESET once the server closes: expected
  let open = true;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve(void (open = false))));
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
      `${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${total}`}\r\n\r\n`,
  );
  const piece = Buffer.alloc(64 * 1024, 0x20);
  const frame = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
  let written = 0;
  while (open && written < total) {
    const more = socket.write(frame);
    written += piece.length;
    // Not events.once: it would reject on the EPIPE that ends the normal path.
    if (!more) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
  }
  if (open) socket.end(chunked ? '0\r\n\r\n' : '');
  await closed;
  return { written, response };
}

describe('a body over the limit', () => {
  it('reaches the official openai client as a 413 naming the limit, every time', async () => {
    const client = new OpenAI({ apiKey: 'pk_test_unknown', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const content = 'x'.repeat(5_000_000); // 5 MB, over the 4 MiB limit
    for (let attempt = 0; attempt < 8; attempt++) {
      const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }).catch((e: unknown) => e);
      expect(err, `attempt ${attempt}`).not.toBeInstanceOf(OpenAI.APIConnectionError);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      const apiError = err as InstanceType<typeof OpenAI.APIError>;
      expect(apiError.status).toBe(413);
      expect(apiError.error).toMatchObject({ type: 'invalid_request_error', code: 413 });
      expect(apiError.message).toMatch(/4194304 bytes .*BODY_LIMIT_BYTES/);
    }
    // The same client is served as usual afterwards (the key is unknown: 401).
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('declared far over the limit: the connection is closed without the body being read', async () => {
    const before = gatewayRss();
    const total = 512 * MiB;
    const { written, response } = await pushBody(false, total);
    // What the client got to write is what the kernels' socket buffers held.
    expect(written).toBeLessThan(48 * MiB);
    if (response) expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(gatewayRss() - before).toBeLessThan(32 * MiB);
  });

  it('sent chunked without a length: read up to four times the limit and thrown away, then closed', async () => {
    const before = gatewayRss();
    const total = 512 * MiB;
    const { written } = await pushBody(true, total);
    // The limit read by the parser, four times it drained, and the socket buffers.
    expect(written).toBeGreaterThan(4 * LIMIT);
    expect(written).toBeLessThan(LIMIT + 4 * LIMIT + 48 * MiB);
    expect(gatewayRss() - before).toBeLessThan(32 * MiB);
  });
});
