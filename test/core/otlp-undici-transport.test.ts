import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CompressionAlgorithm, OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpUndiciTransport } from '../../src/telemetry/otlp-undici-transport.js';

// The transport the gateway's OTLP exporter sends with (undici in place of
// the SDK's node:http one), against a collector that answers as told: what
// it sends, what it retries, and what it gives up on.

interface Received {
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A self-signed certificate for 127.0.0.1 and its key. */
const TLS = { cert: readFileSync(new URL('../fixtures/tls/collector-cert.pem', import.meta.url), 'utf8'), key: readFileSync(new URL('../fixtures/tls/collector-key.pem', import.meta.url), 'utf8') };

/** A collector whose n-th request (from 0) gets `answer(n)`; over TLS with `tls`. */
async function collector(answer: (n: number, res: ServerResponse) => void, tls = false): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      answer(received.length - 1, res);
    });
  };
  const server = tls ? createTlsServer(TLS, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, received };
}

function transport(url: string, extra: { headers?: Record<string, string>; compression?: CompressionAlgorithm; httpAgentOptions?: { ca: string } } = {}) {
  const options = convertLegacyHttpOptions({ url, ...extra }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
  // Retries a few milliseconds apart, not seconds.
  return new OtlpUndiciTransport(options, { minTimeout: 5, maxTimeout: 20 });
}

const payload = new Uint8Array([10, 3, 1, 2, 3, 255]);

describe('the OTLP transport over undici', () => {
  it('posts the bytes with the exporter’s headers and the configured ones, and reads the answer', async () => {
    const c = await collector((_, res) => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from([1, 2])));
    const sent = await transport(c.url, { headers: { authorization: 'Bearer t' } }).send(payload, 5000);
    expect(sent.status).toBe('success');
    expect([...((sent as { data: Uint8Array }).data ?? [])]).toEqual([1, 2]);
    expect(c.received).toHaveLength(1);
    expect([...c.received[0]!.body]).toEqual([...payload]);
    expect(c.received[0]!.headers).toMatchObject({ 'content-type': 'application/x-protobuf', authorization: 'Bearer t' });
    expect(c.received[0]!.headers['user-agent']).toContain('OTel-OTLP-Exporter-JavaScript');
  });

  it('gzips the body when compression is asked for', async () => {
    const c = await collector((_, res) => res.writeHead(200).end());
    expect((await transport(c.url, { compression: CompressionAlgorithm.GZIP }).send(payload, 5000)).status).toBe('success');
    expect(c.received[0]!.headers['content-encoding']).toBe('gzip');
    expect([...gunzipSync(c.received[0]!.body)]).toEqual([...payload]);
  });

  it('trusts the collector’s certificate by the CA the configuration names (OTEL_EXPORTER_OTLP_CERTIFICATE), and no other', async () => {
    const c = await collector((_, res) => res.writeHead(200).end(), true);
    expect((await transport(c.url, { httpAgentOptions: { ca: TLS.cert } }).send(payload, 5000)).status).toBe('success');
    expect(c.received).toHaveLength(1);
    const untrusted = await transport(c.url).send(payload, 5000);
    expect(untrusted.status).toBe('failure');
    expect(c.received).toHaveLength(1);
  });

  it('retries 503 and 429 (honouring Retry-After) until the collector takes the batch', async () => {
    const c = await collector((n, res) => {
      if (n === 0) res.writeHead(503).end('busy');
      else if (n === 1) res.writeHead(429, { 'retry-after': '0' }).end();
      else res.writeHead(200).end();
    });
    expect((await transport(c.url).send(payload, 5000)).status).toBe('success');
    expect(c.received).toHaveLength(3);
    for (const r of c.received) expect([...r.body]).toEqual([...payload]);
  });

  it('retries a dropped connection', async () => {
    const c = await collector((n, res) => {
      if (n === 0) res.socket?.destroy();
      else res.writeHead(200).end();
    });
    expect((await transport(c.url).send(payload, 5000)).status).toBe('success');
    expect(c.received).toHaveLength(2);
  });

  it('fails at once on a status that is not worth retrying, naming it', async () => {
    const c = await collector((_, res) => res.writeHead(400).end('bad batch'));
    const sent = await transport(c.url).send(payload, 5000);
    expect(sent.status).toBe('failure');
    const error = (sent as { error: OTLPExporterError }).error;
    expect(error).toBeInstanceOf(OTLPExporterError);
    expect(error.code).toBe(400);
    expect(c.received).toHaveLength(1);
  });

  it('gives up after its retries', async () => {
    const c = await collector((_, res) => res.writeHead(502).end());
    const sent = await transport(c.url).send(payload, 5000);
    expect(sent.status).toBe('failure');
    expect((sent as { error: OTLPExporterError }).error.code).toBe(502);
    // The first try and five retries.
    expect(c.received).toHaveLength(6);
  });

  it('fails when the collector does not answer within the export timeout', async () => {
    const c = await collector(() => {});
    const sent = await transport(c.url).send(payload, 100);
    expect(sent.status).toBe('failure');
    expect(c.received).toHaveLength(1);
  });

  it('refuses an answer larger than 4 MB', async () => {
    const c = await collector((_, res) => res.writeHead(200).end(Buffer.alloc(4 * 1024 * 1024 + 1)));
    const sent = await transport(c.url).send(payload, 5000);
    expect(sent.status).toBe('failure');
    expect((sent as { error: Error }).error.message).toMatch(/size limit/);
  });
});
