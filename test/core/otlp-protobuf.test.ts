import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { ProtobufReader } from '@opentelemetry/otlp-transformer/build/src/common/protobuf/protobuf-reader.js';
import type { IExportTraceServiceRequest } from '@opentelemetry/otlp-transformer/build/src/trace/internal-types.js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../../src/core/telemetry/span-record.js';
import { EncodedRun, SpanEncoder } from '../../src/telemetry/encoded-span.js';
import { encodedSpanSerializer, RequestBuffers } from '../../src/telemetry/encoded-span-serializer.js';
import { ExportedSpan } from '../../src/telemetry/exported-span.js';
import { PooledIdGenerator } from '../../src/telemetry/pooled-ids.js';

// The gateway encodes spans to OTLP protobuf itself
// (src/telemetry/encoded-span.ts, span-writer.ts). Two oracles: the
// transformer's JSON encoder, whose spans must be what the gateway's bytes
// say, read field by field with the package's own reader, for strings with
// and without non-ASCII characters; and its protobuf encoder, whose bytes
// for the same spans the gateway's must match byte for byte.

interface Seen {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  attributes: string[];
  status: { code: number; message: string };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Every field of a message: [field number, wire type, value (bytes for length-delimited, else the varint or skipped)]. */
function fields(bytes: Uint8Array, each: (field: number, read: ProtobufReader, wireType: number) => void): void {
  const reader = new ProtobufReader(bytes);
  while (!reader.isAtEnd()) {
    const { fieldNumber, wireType } = reader.readTag();
    const before = reader.pos;
    each(fieldNumber, reader, wireType);
    if (reader.pos === before) reader.skip(wireType);
  }
}

function spansOfProtobuf(request: Uint8Array): Seen[] {
  const spans: Seen[] = [];
  fields(request, (f, r) => {
    if (f !== 1) return; // resource_spans
    fields(r.readBytes(), (f2, r2) => {
      if (f2 !== 2) return; // scope_spans
      fields(r2.readBytes(), (f3, r3) => {
        if (f3 !== 2) return; // spans
        const span: Seen = { traceId: '', spanId: '', parentSpanId: '', traceState: '', name: '', kind: 0, attributes: [], status: { code: 0, message: '' } };
        fields(r3.readBytes(), (f4, r4) => {
          if (f4 === 1) span.traceId = hex(r4.readBytes());
          else if (f4 === 2) span.spanId = hex(r4.readBytes());
          else if (f4 === 3) span.traceState = r4.readString();
          else if (f4 === 4) span.parentSpanId = hex(r4.readBytes());
          else if (f4 === 5) span.name = r4.readString();
          else if (f4 === 6) span.kind = r4.readVarint();
          else if (f4 === 9)
            fields(r4.readBytes(), (f5, r5) => {
              if (f5 === 1) span.attributes.push(r5.readString());
              else if (f5 === 2)
                fields(r5.readBytes(), (f6, r6) => {
                  // AnyValue.string_value
                  if (f6 === 1) span.attributes.push(`=${r6.readString()}`);
                });
            });
          else if (f4 === 15)
            fields(r4.readBytes(), (f5, r5) => {
              if (f5 === 2) span.status.message = r5.readString();
              else if (f5 === 3) span.status.code = r5.readVarint();
            });
        });
        spans.push(span);
      });
    });
  });
  return spans;
}

function spansOfJson(request: Uint8Array): Seen[] {
  const body = JSON.parse(Buffer.from(request).toString('utf8')) as IExportTraceServiceRequest;
  return (body.resourceSpans ?? []).flatMap((rs) =>
    (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: String(s.traceId),
        spanId: String(s.spanId),
        parentSpanId: s.parentSpanId ? String(s.parentSpanId) : '',
        traceState: s.traceState ?? '',
        name: s.name,
        kind: s.kind,
        attributes: s.attributes.flatMap((kv) => (kv.value.stringValue == null ? [kv.key] : [kv.key, `=${kv.value.stringValue}`])),
        status: { code: s.status.code ?? 0, message: s.status.message ?? '' },
      })),
    ),
  );
}

const ids = new PooledIdGenerator();
const resource = resourceFromAttributes({ 'service.name': 'otlp-protobuf-test' });
const scope = { name: 'llm-gateway' };

function batch(size: number): ExportedSpan[] {
  return records(size).map((record) => new ExportedSpan(record, resource, scope));
}

function records(size: number): SpanRecord[] {
  const traceId = ids.generateTraceId();
  const parent = ids.generateSpanId();
  return Array.from({ length: size }, (_, i) => {
    const attributes: Attributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': i, 'llm_gateway.cost': `0.${'7'.repeat(i % 13)}1`, 'gen_ai.response.finish_reasons': ['stop', 'length'] };
    if (i % 3 === 0) attributes['gen_ai.response.time_to_first_chunk'] = i / 7;
    if (i % 5 === 0) attributes['llm_gateway.upstream_key.id'] = `uk_${'é'.repeat(i % 4)}${i}`;
    // Every kind of value the encoders write: ints past 32 bits and negative (ten bytes), doubles, booleans, arrays with holes.
    if (i % 11 === 7)
      Object.assign(attributes, { 'x.neg': -5, 'x.big': 2 ** 40, 'x.huge': 2 ** 62, 'x.dbl': -1.5e-7, 'x.yes': true, 'x.no': false, 'x.empty': '', 'x.list': [1, 2.5, null, -3] as number[] });
    // A map, which the API's types do not allow and the encoders write as a kvlist all the same.
    if (i % 11 === 8) attributes['x.map'] = { a: 1, b: 'two', c: [true] } as unknown as string;
    // Larger than a slab: the span encoder's writer grows mid-span.
    if (i === 650) attributes['llm_gateway.note'] = 'n'.repeat(70_000);
    return {
      traceId: i % 2 ? traceId : ids.generateTraceId(),
      spanId: ids.generateSpanId(),
      parentSpanId: i % 4 === 0 ? undefined : parent,
      parentIsRemote: i % 8 === 1,
      traceFlags: 1,
      traceState: i % 6 === 0 ? new TraceState('vendor=abc,other=1') : undefined,
      name: i % 2 ? `chat model-${i}` : i % 10 === 4 ? `POST /v1/modèles/${i}/ü` : 'POST /v1/chat/completions',
      kind: i % 2 ? SpanKind.CLIENT : SpanKind.SERVER,
      startMs: 1_764_000_000_000 + i,
      endMs: 1_764_000_000_250 + i,
      attributes,
      status: i % 7 === 0 ? { code: SpanStatusCode.ERROR, message: `upstream said ${'x'.repeat(i % 200)}` } : { code: SpanStatusCode.UNSET },
    };
  });
}

describe('spans encoded by the gateway', () => {
  it('say what the JSON encoder writes, ASCII and not, for batches small and large', () => {
    const encoder = new SpanEncoder(resource);
    const serializer = encodedSpanSerializer(resource, scope);
    for (const size of [1, 700, 3, 2000, 40]) {
      const ended = records(size);
      const framed = serializer.serializeRequest(encoder.encode(ended) as unknown as ExportedSpan[])!;
      const fromProtobuf = spansOfProtobuf(framed);
      const fromJson = spansOfJson(JsonTraceSerializer.serializeRequest(ended.map((record) => new ExportedSpan(record, resource, scope)))!);
      expect(fromProtobuf).toHaveLength(size);
      expect(fromProtobuf).toEqual(fromJson);
      // Ids are each span's own, not the last one written through a reused array.
      expect(new Set(fromProtobuf.map((s) => s.spanId)).size).toBe(size);
    }
  });
});

describe('spans encoded in runs', () => {
  it('frame to the bytes the OTLP protobuf encoder writes for the same spans, across slabs and batches', () => {
    const encoder = new SpanEncoder(resource);
    const serializer = encodedSpanSerializer(resource, scope);
    // Spans end between batches, and a batch spans several slabs.
    for (const size of [1, 700, 3, 2000, 40]) {
      const ended = records(size);
      const encoded = encoder.encode(ended);
      // A run that fills its slab goes on in the next as a run of its own.
      if (size === 2000) expect(encoded.length).toBeGreaterThan(1);
      expect(encoded.reduce((sum, run) => sum + run.spans, 0)).toBe(size);
      const framed = serializer.serializeRequest(encoded as unknown as ExportedSpan[])!;
      const expected = ProtobufTraceSerializer.serializeRequest(ended.map((record) => new ExportedSpan(record, resource, scope)))!;
      expect(hex(framed)).toBe(hex(expected));
      expect(spansOfProtobuf(framed)).toHaveLength(size);
    }
  });

  it('frame a batch that is not one stretch of a slab: runs of other batches between them', () => {
    const encoder = new SpanEncoder(resource);
    const serializer = encodedSpanSerializer(resource, scope);
    const ended = records(300);
    const encoded = ended.map((record) => encoder.encode([record])[0]!);
    const every = (n: number) => ended.filter((_, i) => i % 3 === n);
    const framed = serializer.serializeRequest(encoded.filter((_, i) => i % 3 === 1) as unknown as ExportedSpan[])!;
    const expected = ProtobufTraceSerializer.serializeRequest(every(1).map((record) => new ExportedSpan(record, resource, scope)))!;
    expect(hex(framed)).toBe(hex(expected));
  });

  it('frame schema URLs of the resource and the scope where the encoder writes them', () => {
    const withSchema = resourceFromAttributes({ 'service.name': 'otlp-protobuf-test' }, { schemaUrl: 'https://opentelemetry.io/schemas/1.37.0' });
    const scopeWithSchema = { name: 'llm-gateway', version: '1', schemaUrl: 'https://opentelemetry.io/schemas/1.36.0' };
    const ended = records(5);
    const encoder = new SpanEncoder(withSchema);
    const framed = encodedSpanSerializer(withSchema, scopeWithSchema).serializeRequest(encoder.encode(ended) as unknown as ExportedSpan[])!;
    const expected = ProtobufTraceSerializer.serializeRequest(ended.map((record) => new ExportedSpan(record, withSchema, scopeWithSchema)))!;
    expect(hex(framed)).toBe(hex(expected));
  });

  it('drop a span that cannot be written, and keep the rest of its run', () => {
    const encoder = new SpanEncoder(resource);
    const [first, bad, last] = records(3);
    Object.defineProperty(bad!.attributes, 'x.broken', {
      enumerable: true,
      get() {
        throw new Error('an attribute that cannot be read');
      },
    });
    const runs = encoder.encode([first!, bad!, last!]);
    expect(runs.map((run) => run.spans)).toEqual([2]);
    const framed = encodedSpanSerializer(resource, scope).serializeRequest(runs as unknown as ExportedSpan[])!;
    expect(hex(framed)).toBe(hex(ProtobufTraceSerializer.serializeRequest([first!, last!].map((record) => new ExportedSpan(record, resource, scope)))!));
  });

  it('refuse to frame a run twice once released', () => {
    const encoder = new SpanEncoder(resource);
    const [run] = encoder.encode(records(1));
    expect(run).toBeInstanceOf(EncodedRun);
    run!.release();
    expect(() => encodedSpanSerializer(resource, scope).serializeRequest([run] as unknown as ExportedSpan[])).toThrow(/unencoded or twice/);
  });
});

describe('the slabs spans are encoded into', () => {
  it('are written over once full and every run in them is framed, and never before', () => {
    const encoder = new SpanEncoder(resource);
    const serializer = encodedSpanSerializer(resource, scope);
    const frame = (spans: EncodedRun[]) => {
      const bytes = hex(serializer.serializeRequest(spans as unknown as ExportedSpan[])!);
      for (const span of spans) span.release();
      return bytes;
    };
    const expected = (ended: SpanRecord[]) => hex(ProtobufTraceSerializer.serializeRequest(ended.map((record) => new ExportedSpan(record, resource, scope)))!);
    // Several slabs' worth: all but the last slab are full.
    const first = records(1500);
    // A run per span, to frame them one by one.
    const firstEncoded = first.map((record) => encoder.encode([record])[0]!);
    const slabs = [...new Set(firstEncoded.map((span) => span.slab))];
    expect(slabs.length).toBeGreaterThan(3);
    // Framing all but one span of the first slab frees nothing.
    const firstSlab = firstEncoded.filter((span) => span.slab === slabs[0]);
    expect(frame(firstSlab.slice(0, -1))).toBe(expected(first.slice(0, firstSlab.length - 1)));
    expect(encoder.freeSlabs).toBe(0);
    // Its last span frees it; the current slab, not full, is kept whatever is framed.
    frame(firstSlab.slice(-1));
    expect(encoder.freeSlabs).toBe(1);
    // New spans go over the freed slab, and the spans still waiting keep their bytes.
    const second = records(800);
    const secondEncoded = encoder.encode(second);
    expect(secondEncoded.some((span) => span.slab === slabs[0])).toBe(true);
    expect(frame(firstEncoded.slice(firstSlab.length))).toBe(expected(first.slice(firstSlab.length)));
    expect(frame(secondEncoded)).toBe(expected(second));
  });
});

describe('a span handed to the OTLP exporter', () => {
  it('lets go of its record once the exporter has encoded it, while the batch waits for the collector', async () => {
    const { ReleasingExporter } = await import('../../src/telemetry/tracing-sdk.js');
    const spans = batch(3);
    let encoded: Seen[] = [];
    let answer: (() => void) | undefined;
    const exporter = new ReleasingExporter({
      // As the OTLP exporter does: encode within export(), answer when the collector does.
      export(batchToSend, done) {
        encoded = spansOfJson(JsonTraceSerializer.serializeRequest(batchToSend)!);
        answer = () => done({ code: 0 });
      },
      shutdown: () => Promise.resolve(),
    });
    const names = spans.map((s) => s.name);
    exporter.export(spans, () => {});
    expect(encoded.map((s) => s.name)).toEqual(names);
    // The batch is still held (the collector has not answered), but its spans no longer hold the request's data.
    expect(answer).toBeDefined();
    for (const span of spans) {
      expect(span.name).toBe('');
      expect(span.attributes).toEqual({});
    }
  });
});

describe('the buffers batches are serialized into', () => {
  it('are reused once an export is over and never while one holds them, its bytes intact until then', async () => {
    const { ReleasingExporter } = await import('../../src/telemetry/tracing-sdk.js');
    const encoder = new SpanEncoder(resource);
    const buffers = new RequestBuffers();
    const serializer = encodedSpanSerializer(resource, scope, buffers);
    const sent: Array<{ bytes: Uint8Array; copy: string; answer: () => void }> = [];
    // As the OTLP exporter does: serialize within export(), answer when the collector does.
    const exporter = new ReleasingExporter(
      {
        export(spans, done) {
          const bytes = serializer.serializeRequest(spans)!;
          sent.push({ bytes, copy: hex(bytes), answer: () => done({ code: 0 }) });
        },
        shutdown: () => Promise.resolve(),
      },
      buffers,
    );
    const exportBatch = (size: number) => {
      const ended = records(size);
      const expected = hex(ProtobufTraceSerializer.serializeRequest(ended.map((record) => new ExportedSpan(record, resource, scope)))!);
      exporter.export(encoder.encode(ended) as unknown as ExportedSpan[], () => {});
      return expected;
    };

    // Two exports at once (a flush): each its own buffer.
    const first = exportBatch(600);
    const second = exportBatch(500);
    expect(sent[0]!.bytes.buffer).not.toBe(sent[1]!.bytes.buffer);
    expect(buffers.lentCount).toBe(2);
    expect(sent[0]!.copy).toBe(first);
    expect(sent[1]!.copy).toBe(second);

    // The first is answered: the next batch is written where it was, and the second's bytes are untouched.
    sent[0]!.answer();
    const third = exportBatch(550);
    expect(sent[2]!.bytes.buffer).toBe(sent[0]!.bytes.buffer);
    expect(sent[2]!.copy).toBe(third);
    expect(hex(sent[1]!.bytes)).toBe(second);

    // A batch larger than any buffer free gets a new one; every buffer comes back.
    sent[1]!.answer();
    sent[2]!.answer();
    const fourth = exportBatch(3000);
    expect(sent[3]!.bytes.buffer).not.toBe(sent[0]!.bytes.buffer);
    expect(sent[3]!.bytes.buffer).not.toBe(sent[1]!.bytes.buffer);
    expect(sent[3]!.copy).toBe(fourth);
    sent[3]!.answer();
    expect(buffers.lentCount).toBe(0);
  });

  it('keep nothing for an export that never serialized its batch', () => {
    const buffers = new RequestBuffers();
    buffers.giveBack([]);
    expect(buffers.lentCount).toBe(0);
    const batchOfTwo = [1, 2];
    expect(buffers.lend(batchOfTwo, 10)).toHaveLength(10);
    buffers.giveBack(batchOfTwo);
    buffers.giveBack(batchOfTwo);
    expect(buffers.lentCount).toBe(0);
  });
});
