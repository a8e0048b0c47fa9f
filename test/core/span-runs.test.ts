import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ProtobufReader } from '@opentelemetry/otlp-transformer/build/src/common/protobuf/protobuf-reader.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { SpanRecord } from '../../src/core/telemetry/span-record.js';
import type { Tracing } from '../../src/core/telemetry/tracing.js';
import { PooledIdGenerator } from '../../src/telemetry/pooled-ids.js';
import { runBatch, tracingFor } from '../../src/telemetry/tracing-sdk.js';
import { tracingSettings } from '../../src/telemetry/tracing-settings.js';

// With OTLP protobuf the gateway encodes spans in runs (tracing-sdk.ts): a
// run is encoded when it is full, when its wait is over, or when the
// tracing is flushed or shut down. Each way, every span reaches the
// collector once.

/** The span names in an ExportTraceServiceRequest: resource_spans (1) > scope_spans (2) > spans (2) > name (5). */
function spanNames(body: Uint8Array): string[] {
  const names: string[] = [];
  const fields = (bytes: Uint8Array, field: number, each: (inner: Uint8Array) => void) => {
    const reader = new ProtobufReader(bytes);
    while (!reader.isAtEnd()) {
      const tag = reader.readTag();
      if (tag.fieldNumber === field && tag.wireType === 2) each(reader.readBytes());
      else reader.skip(tag.wireType);
    }
  };
  fields(body, 1, (resourceSpans) =>
    fields(resourceSpans, 2, (scopeSpans) =>
      fields(scopeSpans, 2, (span) => {
        const reader = new ProtobufReader(span);
        while (!reader.isAtEnd()) {
          const tag = reader.readTag();
          if (tag.fieldNumber === 5) names.push(reader.readString());
          else reader.skip(tag.wireType);
        }
      }),
    ),
  );
  return names;
}

/** A collector that records the span names of every export, and tells when `count` have come. */
async function startCollector() {
  const names: string[] = [];
  /** Spans in each export. */
  const exports: number[] = [];
  const arrived = new EventTarget();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const spans = spanNames(Buffer.concat(chunks));
      names.push(...spans);
      exports.push(spans.length);
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      arrived.dispatchEvent(new Event('spans'));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    names,
    exports,
    async until(count: number): Promise<string[]> {
      while (names.length < count) await once(arrived, 'spans');
      return names;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const ids = new PooledIdGenerator();

function span(name: string): SpanRecord {
  const now = Date.now();
  return {
    traceId: ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    parentSpanId: undefined,
    parentIsRemote: false,
    traceFlags: 1,
    traceState: undefined,
    name,
    kind: SpanKind.SERVER,
    startMs: now - 5,
    endMs: now,
    attributes: { 'http.request.method': 'POST' },
    status: { code: SpanStatusCode.UNSET },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tracedTo(env: Record<string, string>): Promise<{ tracing: Tracing; collector: Awaited<ReturnType<typeof startCollector>> }> {
  const collector = await startCollector();
  cleanups.push(collector.close);
  const tracing = tracingFor(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, ...env })!);
  cleanups.push(() => tracing.shutdown());
  return { tracing, collector };
}

describe('spans encoded in runs', () => {
  it('leave on their own, a full run and a run that waited alike, none twice', async () => {
    const { tracing, collector } = await tracedTo({ OTEL_BSP_SCHEDULE_DELAY: '10' });
    // One run of 64 and the start of the next, which is not full: it is encoded when its wait is over.
    const names = Array.from({ length: 70 }, (_, i) => `span ${i}`);
    for (const name of names) tracing.export(span(name));
    expect((await collector.until(70)).sort()).toEqual([...names].sort());
    tracing.export(span('alone'));
    expect(await collector.until(71)).toContain('alone');
    expect(collector.names).toHaveLength(71);
  });

  it('are encoded and exported by a flush, and by the shutdown, however short the run', async () => {
    const { tracing, collector } = await tracedTo({ OTEL_BSP_SCHEDULE_DELAY: '60000' });
    tracing.export(span('flushed'));
    await tracing.flush();
    expect(collector.names).toEqual(['flushed']);
    tracing.export(span('at shutdown 1'));
    tracing.export(span('at shutdown 2'));
    await tracing.shutdown();
    expect(collector.names).toEqual(['flushed', 'at shutdown 1', 'at shutdown 2']);
  });
});

describe('the batch span processor counting runs', () => {
  it('is sized so that a batch or a queue never holds more spans than the settings say', () => {
    const batch = { maxExportBatchSize: 2048, maxQueueSize: 8192, scheduledDelayMillis: 5000, exportTimeoutMillis: 30000 };
    expect(runBatch(batch, 64)).toEqual({ ...batch, maxExportBatchSize: 32, maxQueueSize: 128 });
    expect(runBatch({ ...batch, maxExportBatchSize: 100, maxQueueSize: 150 }, 64)).toMatchObject({ maxExportBatchSize: 1, maxQueueSize: 2 });
    expect(runBatch({ ...batch, maxExportBatchSize: 10, maxQueueSize: 10 }, 10)).toMatchObject({ maxExportBatchSize: 1, maxQueueSize: 1 });
  });

  it('exports no more spans at once than OTEL_BSP_MAX_EXPORT_BATCH_SIZE, even below a run', async () => {
    const { tracing, collector } = await tracedTo({ OTEL_BSP_SCHEDULE_DELAY: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10' });
    for (let i = 0; i < 35; i++) tracing.export(span(`span ${i}`));
    await collector.until(35);
    expect(collector.exports.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...collector.exports)).toBeLessThanOrEqual(10);
  });
});
