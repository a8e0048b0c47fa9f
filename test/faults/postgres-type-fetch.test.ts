// A connection lost while postgres.js fetches the server's array types (its
// first query on every new connection) must fail or retry what waits on it,
// not end the process with an unhandled rejection (porsager/postgres#1192;
// our patch in patches/postgres+3.4.9.patch). A proxy in front of the real
// server ends the first connection the moment that catalog query goes by,
// the way a DROP DATABASE ... WITH (FORCE) or a restart ends a session.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DATABASE_URL = process.env.DATABASE_URL;

/** What the server says to a session pg_terminate_backend ends (SQLSTATE 57P01), before it closes the socket. */
function terminated(): Buffer {
  const field = (code: string, value: string) => Buffer.concat([Buffer.from(code), Buffer.from(value), Buffer.from([0])]);
  const body = Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', '57P01'), field('M', 'terminating connection due to administrator command'), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** Forwards to the server; the first connection whose client sends the type query is terminated there, as the server does it. */
async function cuttingProxy(target: URL): Promise<{ port: number; cuts: () => number; close: () => Promise<void> }> {
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    sockets.add(client).add(upstream);
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      if (cuts === 0 && chunk.includes('pg_catalog.pg_type')) {
        cuts++;
        upstream.destroy();
        client.end(terminated());
        return;
      }
      upstream.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    cuts: () => cuts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!DATABASE_URL)('postgres.js: a connection cut while it fetches types', () => {
  let proxy: Awaited<ReturnType<typeof cuttingProxy>>;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(async () => {
    proxy = await cuttingProxy(new URL(DATABASE_URL!));
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await proxy?.close();
  });

  it('fails or retries the waiting query, and leaves no unhandled rejection', async () => {
    const url = new URL(DATABASE_URL!);
    url.host = `127.0.0.1:${proxy.port}`;
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      // Either outcome is the driver's to choose; what it must not do is leave a rejection nobody holds.
      const first = await sql`select 1 as one`.then(
        (rows) => rows[0]?.one,
        (err: unknown) => err,
      );
      expect(proxy.cuts()).toBe(1);
      expect(first === 1 || first instanceof Error).toBe(true);
      // A new connection fetches the types again and answers.
      expect((await sql`select 2 as two`)[0]?.two).toBe(2);
      // Unhandled rejections are reported after the microtask queue drains: give it a turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
