import type { HrTime, SpanContext, SpanStatus } from '@opentelemetry/api';
import { globalErrorHandler } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { writeHrTimeAsFixed64 } from '@opentelemetry/otlp-transformer/build/src/common/protobuf/common-serializer.js';
import type { ProtobufWriter } from '@opentelemetry/otlp-transformer/build/src/common/protobuf/protobuf-writer.js';
import type { SpanRecord } from '../core/telemetry/span-record.js';
import { close, closeWide, open, openWide, Slab, writeAttributes, writeFixed32, writeFixed64, writeHexId, writeString, writeTag, writeVarint } from './span-writer.js';

// Spans are encoded to OTLP protobuf in runs, a few requests' worth at a
// time (tracing-sdk.ts), while their records are still young: the records
// die young, and what waits for export is bytes outside the JavaScript
// heap and one object per run, where an object per span would be kept by
// the batch span processor long enough to be promoted. The bytes are the
// `spans` field of a ScopeSpans message, exactly as
// @opentelemetry/otlp-transformer's serializer writes a ReadableSpan
// (span-writer.ts writes them); encoded-span-serializer.ts frames runs into
// an ExportTraceServiceRequest.

/** Bytes of one slab: spans are written one after another into it. */
const SLAB_BYTES = 64 * 1024;
/** A new slab is begun when less is left than this: a span seldom needs more (the slab grows if one does), and its first tags need no check. */
const SLAB_ROOM = 8 * 1024;

/** What BatchSpanProcessor asks of a span it takes: only whether it is sampled (every span drawn is). */
const SAMPLED: SpanContext = Object.freeze({ traceId: '', spanId: '', traceFlags: 1 });

/** Span.flags: the parent's remoteness is known (OTLP SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK). */
const HAS_IS_REMOTE = 0x100;
/** Span.flags: the parent is remote (SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK). */
const IS_REMOTE = 0x200;

/**
 * A slab of spans, given back to its encoder once it is full and every run
 * in it has been framed for export: the next spans are written over it.
 * A new 64 KB slab every couple of hundred spans was memory V8 counts as
 * external and pressing on its collections, malloc'd and freed again.
 */
export class SpanSlab extends Slab {
  /** Runs written to it and not yet framed. */
  unframed = 0;
  /** The encoder has moved on to another slab: no more spans will be written here. */
  full = false;

  constructor(private readonly encoder: SpanEncoder) {
    super(SLAB_BYTES);
  }

  /** One of its runs has been framed. */
  framed(): void {
    if (--this.unframed === 0 && this.full) this.encoder.reuse(this);
  }
}

/**
 * A run of spans' bytes, one after another in one slab: what the batch
 * span processor holds and counts as one item (tracing-sdk.ts sizes its
 * batches in runs).
 */
export class EncodedRun {
  #slab: SpanSlab | undefined;

  constructor(
    slab: SpanSlab,
    /** The first span's first byte in the slab (its field tag). */
    readonly start: number,
    readonly end: number,
    /** Spans in the run. */
    readonly spans: number,
    /** Read by the batch span processor (whether its attributes are still to come). */
    readonly resource: Resource,
  ) {
    this.#slab = slab;
    slab.unframed++;
  }

  spanContext(): SpanContext {
    return SAMPLED;
  }

  /** The slab the run is in; undefined once released. */
  get slab(): Slab | undefined {
    return this.#slab;
  }

  /** Lets go of the slab once the run's batch is framed (the processor keeps the batch until the collector answers); the slab may then be written over. */
  release(): void {
    const slab = this.#slab;
    this.#slab = undefined;
    slab?.framed();
  }
}

/** Slabs kept for reuse: a batch of 2048 spans fills about ten. */
const FREE_SLABS = 16;

/** Writes the spans the core ends into the current slab, run by run. */
export class SpanEncoder {
  #slab = new SpanSlab(this);
  /** Full slabs whose runs have all been framed, to be written over. */
  readonly #free: SpanSlab[] = [];
  readonly #time: HrTime = [0, 0];
  /** What writeHrTimeAsFixed64 writes through: the slab's fixed64. */
  readonly #fixed64 = { writeFixed64: (low: number, high: number) => writeFixed64(this.#slab, low, high) } as unknown as ProtobufWriter;

  constructor(private readonly resource: Resource) {}

  /** Encodes the spans in order: one run, or one per slab when a slab fills on the way. */
  encode(spans: readonly SpanRecord[]): EncodedRun[] {
    const runs: EncodedRun[] = [];
    let start = this.#slab.pos;
    let count = 0;
    for (const span of spans) {
      if (this.#slab.pos > this.#slab.bytes.length - SLAB_ROOM) {
        if (count > 0) runs.push(new EncodedRun(this.#slab, start, this.#slab.pos, count, this.resource));
        this.#nextSlab();
        start = this.#slab.pos;
        count = 0;
      }
      const at = this.#slab.pos;
      try {
        this.#write(span);
        count++;
      } catch (error) {
        // Encoding runs on a request's path or from a timer: a span that cannot be written is dropped, as the SDK drops what it cannot export.
        this.#slab.pos = at;
        globalErrorHandler(error as Error);
      }
    }
    if (count > 0) runs.push(new EncodedRun(this.#slab, start, this.#slab.pos, count, this.resource));
    return runs;
  }

  #write(span: SpanRecord): void {
    const s = this.#slab;
    // ScopeSpans.spans (field 2), a Span message. Tags are written as their bytes: (field << 3) | wire type.
    s.bytes[s.pos++] = 0x12;
    const length = openWide(s);
    s.bytes[s.pos++] = 0x0a; // trace_id (1)
    writeHexId(s, span.traceId);
    writeTag(s, 0x12); // span_id (2)
    writeHexId(s, span.spanId);
    const traceState = span.traceState?.serialize();
    if (traceState) {
      writeTag(s, 0x1a); // trace_state (3)
      writeString(s, traceState);
    }
    if (span.parentSpanId) {
      writeTag(s, 0x22); // parent_span_id (4)
      writeHexId(s, span.parentSpanId);
    }
    writeTag(s, 0x2a); // name (5)
    writeString(s, span.name);
    // kind (6): the API's kinds count from 0, the protocol's from 1 (0 is unspecified).
    s.room(2);
    s.bytes[s.pos++] = 0x30;
    s.bytes[s.pos++] = span.kind + 1;
    writeTag(s, 0x39); // start_time_unix_nano (7), fixed64
    writeHrTimeAsFixed64(this.#fixed64, this.#hrTime(span.startMs));
    writeTag(s, 0x41); // end_time_unix_nano (8), fixed64
    writeHrTimeAsFixed64(this.#fixed64, this.#hrTime(span.endMs));
    writeAttributes(s, span.attributes, 0x4a); // attributes (9)
    // Dropped attributes (10), events (12) and links (14): none, written as the SDK's serializer writes them.
    s.room(6);
    s.bytes[s.pos++] = 0x50;
    s.bytes[s.pos++] = 0;
    s.bytes[s.pos++] = 0x60;
    s.bytes[s.pos++] = 0;
    s.bytes[s.pos++] = 0x70;
    s.bytes[s.pos++] = 0;
    writeTag(s, 0x7a); // status (15)
    writeStatus(s, span.status);
    // flags (16), fixed32: a two-byte tag.
    s.room(2);
    s.bytes[s.pos++] = 0x85;
    s.bytes[s.pos++] = 0x01;
    writeFixed32(s, (span.traceFlags & 0xff) | HAS_IS_REMOTE | (span.parentIsRemote ? IS_REMOTE : 0));
    closeWide(s, length);
  }

  /** A full slab all of whose runs are framed: kept to be written over, unless enough are kept already. */
  reuse(slab: SpanSlab): void {
    if (this.#free.length >= FREE_SLABS) return;
    slab.pos = 0;
    slab.full = false;
    this.#free.push(slab);
  }

  /** Slabs kept for reuse (tests). */
  get freeSlabs(): number {
    return this.#free.length;
  }

  #nextSlab(): void {
    const slab = this.#slab;
    slab.full = true;
    if (slab.unframed === 0) this.reuse(slab);
    this.#slab = this.#free.pop() ?? new SpanSlab(this);
  }

  /** Epoch milliseconds as the SDK's millisToHrTime makes them, in a scratch pair the writer reads at once. */
  #hrTime(epochMs: number): HrTime {
    const time = this.#time;
    time[0] = Math.trunc(epochMs / 1000);
    time[1] = Math.round((epochMs % 1000) * 1e6);
    return time;
  }
}

function writeStatus(s: Slab, status: SpanStatus): void {
  const at = open(s);
  if (status.message) {
    writeTag(s, 0x12); // message (2)
    writeString(s, status.message);
  }
  writeTag(s, 0x18); // code (3)
  writeVarint(s, status.code);
  close(s, at);
}
