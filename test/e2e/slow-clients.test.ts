// Finding 7 of issue 20: a client that sends its request slowly is cut off
// after the configured time, while an answer that legitimately lasts longer
// (a slow upstream, a long stream) runs to its end; and an optional cap on
// open connections per client address.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { type Emulator, startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

let gw: TestGateway;
let capped: TestGateway;
let upstream: Emulator;
beforeAll(async () => {
  [gw, capped, upstream] = await Promise.all([
    startGateway({ env: { REQUEST_TIMEOUT_SECONDS: '1', HEADERS_TIMEOUT_SECONDS: '0.5', KEEP_ALIVE_TIMEOUT_SECONDS: '0.5' } }),
    startGateway({ env: { MAX_CONNECTIONS_PER_ADDRESS: '3' } }),
    startOpenAIEmulator(),
  ]);
});
afterAll(async () => {
  await Promise.all([gw?.close(), capped?.close()]);
  await upstream?.close();
});

interface RawConnection {
  socket: Socket;
  /** Everything the server sent. */
  received: () => string;
  closed: Promise<void>;
}

async function open(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => received, closed };
}

/** Writes `text` a byte every `everyMs` until the server closes the connection. */
function trickle(connection: RawConnection, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (i < text.length && !connection.socket.destroyed) connection.socket.write(text[i++]!);
  }, everyMs);
  void connection.closed.then(() => clearInterval(timer));
}

function expectTimedOut(received: string) {
  expect(received).toMatch(/^HTTP\/1\.1 408 /);
  const body = JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) as unknown;
  expect(body).toMatchObject({ error: { type: 'timeout_error', code: 408, message: expect.stringMatching(/REQUEST_TIMEOUT_SECONDS/) } });
}

describe('slow clients', () => {
  it('cuts a client trickling its body (408), while a slow, long stream on the same server runs to its end', async () => {
    await liveModel(gw, { id: 'slow-model', upstreamModel: 'slow-model', keys: [{ baseUrl: upstream.url }] });
    // Longer to its first byte than a request may take to arrive, and gaps longer than the headers and keep-alive timeouts.
    upstream.setDefault({ firstByteDelayMs: 1500, eventDelayMs: 700 });
    upstream.setScript({ text: 'one two three four', chunks: 4 });
    const { secret } = await gw.project({ mode: 'live', balance: '1' });
    const stream = await gw.client(secret).chat.completions.create({ model: 'slow-model', stream: true, messages: [{ role: 'user', content: 'take your time' }] });

    const slow = await open(gw.url);
    slow.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
    trickle(slow, `{"model":"gpt-4o-mini","messages":[${' '.repeat(1000)}`, 100);
    let cut = false;
    void slow.closed.then(() => (cut = true));

    let text = '';
    let finish: string | null | undefined;
    let cutBeforeLastChunk = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) {
        finish = chunk.choices[0].finish_reason;
        cutBeforeLastChunk = cut;
      }
    }
    expect(text).toBe('one two three four');
    expect(finish).toBe('stop');
    expect(cutBeforeLastChunk).toBe(true);
    expectTimedOut(slow.received());
  });

  it('cuts a client sending its headers a byte at a time, and one that sends nothing', async () => {
    const slow = await open(gw.url);
    trickle(slow, `GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Padding: ${'a'.repeat(1000)}\r\n\r\n`, 50);
    const silent = await open(gw.url);
    await Promise.all([slow.closed, silent.closed]);
    expectTimedOut(slow.received());
  });

  it('refuses headers timeouts longer than the request timeout at start', () => {
    expect(() => loadConfig({ REQUEST_TIMEOUT_SECONDS: '5', HEADERS_TIMEOUT_SECONDS: '10' })).toThrow(ConfigError);
    expect(() => loadConfig({ REQUEST_TIMEOUT_SECONDS: '5', HEADERS_TIMEOUT_SECONDS: '10' })).toThrow(/HEADERS_TIMEOUT_SECONDS/);
  });
});

describe('MAX_CONNECTIONS_PER_ADDRESS', () => {
  /** A connection the server has accepted: it answered a request on it. */
  async function accepted(url: string): Promise<RawConnection | undefined> {
    const connection = await open(url);
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n');
    const answered = new Promise<boolean>((resolve) => connection.socket.on('data', () => connection.received().includes('\r\n\r\n') && resolve(true)));
    const ok = await Promise.race([answered, connection.closed.then(() => false)]);
    return ok && connection.received().startsWith('HTTP/1.1 200 ') ? connection : undefined;
  }

  it('refuses the connection past the cap with a 429, and takes one again once a connection closes', async () => {
    const held = await Promise.all([accepted(capped.url), accepted(capped.url), accepted(capped.url)]);
    expect(held.every(Boolean)).toBe(true);

    const refused = await open(capped.url);
    await refused.closed;
    expect(refused.received()).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused.received()).toContain('MAX_CONNECTIONS_PER_ADDRESS');

    held[0]!.socket.destroy();
    await held[0]!.closed;
    // The server counts the close when it sees it: try until it has.
    let again: RawConnection | undefined;
    for (let attempt = 0; attempt < 50 && !again; attempt++) again = await accepted(capped.url);
    expect(again).toBeDefined();
    for (const connection of [...held.slice(1), again]) connection!.socket.destroy();
  });
});
