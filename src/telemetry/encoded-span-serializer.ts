import type { InstrumentationScope } from '@opentelemetry/core';
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { writeInstrumentationScope, writeResource } from '@opentelemetry/otlp-transformer/build/src/common/protobuf/common-serializer.js';
import { ProtobufWriter } from '@opentelemetry/otlp-transformer/build/src/common/protobuf/protobuf-writer.js';
import { estimateVarintSize } from '@opentelemetry/otlp-transformer/build/src/common/protobuf/utils.js';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { EncodedRun } from './encoded-span.js';
import type { Slab } from './span-writer.js';

// An ExportTraceServiceRequest around runs of encoded spans
// (encoded-span.ts): one ResourceSpans with one ScopeSpans, the gateway's
// resource and scope written once, then the runs' bytes copied as they
// are. What the exporter's HTTP delegate sends, retries and times out is
// the OpenTelemetry exporter's own.
//
// A batch's request is written into a buffer lent for the export and given
// back when the export is over (ReleasingExporter): a batch of hundreds of
// spans is well over glibc's mmap threshold (npm start fixes it at 128 KB),
// so a fresh buffer per export was mapped, faulted in page by page and
// unmapped again each time.

/** A length as a protobuf varint, at `at` in `out`; returns the position after it. */
function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

/** A field's bytes, written once by the transformer's own writer. */
function fieldBytes(write: (writer: ProtobufWriter) => void): Uint8Array {
  const writer = new ProtobufWriter(256);
  write(writer);
  return writer.finish().slice();
}

/** A schema_url field (3, in ResourceSpans and ScopeSpans alike); nothing when there is none. */
function schemaField(url: string | undefined): Uint8Array {
  if (!url) return new Uint8Array(0);
  return fieldBytes((writer) => {
    writer.writeTag(3, 2);
    writer.writeString(url);
  });
}

/** Buffers for requests being exported, reused from one export to the next. */
export class RequestBuffers {
  /** Buffers no export holds, largest last. */
  readonly #free: Uint8Array[] = [];
  /** The buffer each batch's request was written to, until its export is over. */
  readonly #lent = new Map<readonly unknown[], Uint8Array>();

  /** `size` bytes of a buffer lent for `batch`'s export (a batch is serialized once per export). */
  lend(batch: readonly unknown[], size: number): Uint8Array {
    let buffer = this.#free.pop();
    // Room to spare, so the next batches (a few spans more, or longer) fit the same buffer.
    if (!buffer || buffer.length < size) buffer = new Uint8Array(Math.ceil((size * 1.25) / GRAIN) * GRAIN);
    this.#lent.set(batch, buffer);
    return buffer.subarray(0, size);
  }

  /** `batch`'s export is over: its buffer is free again (nothing when it was never serialized). */
  giveBack(batch: readonly unknown[]): void {
    const buffer = this.#lent.get(batch);
    if (!buffer) return;
    this.#lent.delete(batch);
    // Kept: two (overlapping exports are a flush's), the largest, the rest left to the collector.
    this.#free.push(buffer);
    this.#free.sort((a, b) => a.length - b.length);
    if (this.#free.length > 2) this.#free.shift();
  }

  /** Buffers lent and not given back (tests). */
  get lentCount(): number {
    return this.#lent.size;
  }
}

/** Buffer sizes are multiples of this. */
const GRAIN = 64 * 1024;

/** Serializes batches of EncodedRun (the processor hands them over as the ReadableSpans it batches), each into a buffer `buffers` lends. */
export function encodedSpanSerializer(resource: Resource, scope: InstrumentationScope, buffers = new RequestBuffers()): ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  // ResourceSpans: resource (1), scope_spans (2), schema_url (3). ScopeSpans: scope (1), spans (2), schema_url (3).
  const resourceField = fieldBytes((writer) => writeResource(writer, resource, 1));
  const resourceSchema = schemaField(resource.schemaUrl);
  const scopeField = fieldBytes((writer) => writeInstrumentationScope(writer, scope, 1));
  const scopeSchema = schemaField(scope.schemaUrl);

  return {
    serializeRequest(spans: ReadableSpan[]): Uint8Array {
      const encoded: EncodedRun[] = [];
      let spanBytes = 0;
      for (const run of spans) {
        if (!(run instanceof EncodedRun) || !run.slab) throw new Error('tracing: spans reached the protobuf serializer unencoded or twice');
        encoded.push(run);
        spanBytes += run.end - run.start;
      }
      const scopeSpans = scopeField.length + spanBytes + scopeSchema.length;
      const resourceSpans = resourceField.length + 1 + estimateVarintSize(scopeSpans) + scopeSpans + resourceSchema.length;
      const out = buffers.lend(spans, 1 + estimateVarintSize(resourceSpans) + resourceSpans);
      // ExportTraceServiceRequest.resource_spans (1)
      out[0] = (1 << 3) | 2;
      let at = writeVarint(out, 1, resourceSpans);
      out.set(resourceField, at);
      at += resourceField.length;
      // ResourceSpans.scope_spans (2)
      out[at++] = (2 << 3) | 2;
      at = writeVarint(out, at, scopeSpans);
      out.set(scopeField, at);
      at += scopeField.length;
      at = copyRuns(encoded, out, at);
      out.set(scopeSchema, at);
      at += scopeSchema.length;
      out.set(resourceSchema, at);
      return out;
    },
    deserializeResponse: ProtobufTraceSerializer.deserializeResponse,
  };
}

/** Copies the runs' bytes in order: runs encoded one after another lie together in their slab, and go in one copy. */
function copyRuns(runs: EncodedRun[], out: Uint8Array, at: number): number {
  let slab: Slab | undefined;
  let from = 0;
  let to = 0;
  const flush = () => {
    if (slab && to > from) out.set(slab.bytes.subarray(from, to), at);
    at += to - from;
  };
  for (const run of runs) {
    if (run.slab === slab && run.start === to) {
      to = run.end;
      continue;
    }
    flush();
    slab = run.slab;
    from = run.start;
    to = run.end;
  }
  flush();
  return at;
}
