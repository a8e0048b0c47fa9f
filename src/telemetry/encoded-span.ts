import type { HrTime, SpanContext, SpanStatus } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { writeAttributes, writeHrTimeAsFixed64 } from '@opentelemetry/otlp-transformer/build/src/common/protobuf/common-serializer.js';
import { ProtobufWriter } from '@opentelemetry/otlp-transformer/build/src/common/protobuf/protobuf-writer.js';
import type { SpanRecord } from '../core/telemetry/span-record.js';

// A span is encoded to OTLP protobuf the moment it ends, while its record
// is still in cache and before anything keeps it: the record dies young,
// and the batch waiting for export is bytes outside the JavaScript heap
// (no span objects for the young generation to copy and promote). The
// bytes are the `spans` field of a ScopeSpans message, exactly as
// @opentelemetry/otlp-transformer's serializer writes a ReadableSpan, with
// its writer and its attribute encoding; encoded-span-serializer.ts frames
// a batch of them into an ExportTraceServiceRequest.

/** Bytes of one slab: spans are written one after another into it. */
const SLAB_BYTES = 64 * 1024;
/** A new slab is begun when less is left than this: a span seldom needs more (the writer grows if one does). */
const SLAB_ROOM = 8 * 1024;

/** What BatchSpanProcessor asks of a span it takes: only whether it is sampled (every span drawn is). */
const SAMPLED: SpanContext = Object.freeze({ traceId: '', spanId: '', traceFlags: 1 });

/** Span.flags: the parent's remoteness is known (OTLP SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK). */
const HAS_IS_REMOTE = 0x100;
/** Span.flags: the parent is remote (SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK). */
const IS_REMOTE = 0x200;

/** One finished span's bytes: where they are in the slab they were written to. */
export class EncodedSpan {
  #slab: ProtobufWriter | undefined;

  constructor(
    slab: ProtobufWriter,
    /** The span's first byte in the slab (its field tag). */
    readonly start: number,
    readonly end: number,
    /** Read by the batch span processor (whether its attributes are still to come). */
    readonly resource: Resource,
  ) {
    this.#slab = slab;
  }

  spanContext(): SpanContext {
    return SAMPLED;
  }

  /** The slab the span is in; undefined once released. */
  get slab(): ProtobufWriter | undefined {
    return this.#slab;
  }

  /** Lets go of the slab once the span's batch is encoded (the processor keeps the batch until the collector answers). */
  release(): void {
    this.#slab = undefined;
  }
}

/** Writes each span the core ends into the current slab. */
export class SpanEncoder {
  #slab = new ProtobufWriter(SLAB_BYTES);
  readonly #traceId = new Uint8Array(16);
  readonly #spanId = new Uint8Array(8);
  readonly #time: HrTime = [0, 0];

  constructor(private readonly resource: Resource) {}

  encode(span: SpanRecord): EncodedSpan {
    if (this.#slab.pos > SLAB_BYTES - SLAB_ROOM) this.#slab = new ProtobufWriter(SLAB_BYTES);
    const writer = this.#slab;
    const start = writer.pos;
    // ScopeSpans.spans (field 2), a Span message.
    writer.writeTag(2, 2);
    const lengthAt = writer.startLengthDelimited();
    const from = writer.pos;
    writer.writeTag(1, 2);
    writer.writeBytes(this.#id(span.traceId));
    writer.writeTag(2, 2);
    writer.writeBytes(this.#id(span.spanId));
    const traceState = span.traceState?.serialize();
    if (traceState) {
      writer.writeTag(3, 2);
      writer.writeString(traceState);
    }
    if (span.parentSpanId) {
      writer.writeTag(4, 2);
      writer.writeBytes(this.#id(span.parentSpanId));
    }
    writer.writeTag(5, 2);
    writer.writeString(span.name);
    // The API's kinds count from 0, the protocol's from 1 (0 is unspecified).
    writer.writeTag(6, 0);
    writer.writeVarint(span.kind + 1);
    writer.writeTag(7, 1);
    writeHrTimeAsFixed64(writer, this.#hrTime(span.startMs));
    writer.writeTag(8, 1);
    writeHrTimeAsFixed64(writer, this.#hrTime(span.endMs));
    writeAttributes(writer, span.attributes, 9);
    // Dropped attributes, events and links: none (written as the SDK's serializer writes them).
    writer.writeTag(10, 0);
    writer.writeVarint(0);
    writer.writeTag(12, 0);
    writer.writeVarint(0);
    writer.writeTag(14, 0);
    writer.writeVarint(0);
    writer.writeTag(15, 2);
    writeStatus(writer, span.status);
    writer.writeTag(16, 5);
    writer.writeFixed32((span.traceFlags & 0xff) | HAS_IS_REMOTE | (span.parentIsRemote ? IS_REMOTE : 0));
    writer.finishLengthDelimited(lengthAt, writer.pos - from);
    return new EncodedSpan(writer, start, writer.pos, this.resource);
  }

  /** A hex id's bytes, in a scratch array the writer copies at once. */
  #id(hex: string): Uint8Array {
    const bytes = hex.length === 32 ? this.#traceId : hex.length === 16 ? this.#spanId : undefined;
    if (!bytes) return Buffer.from(hex, 'hex');
    for (let i = 0, j = 0; j < bytes.length; i += 2, j++) bytes[j] = (HEX_DIGITS[hex.charCodeAt(i)]! << 4) | HEX_DIGITS[hex.charCodeAt(i + 1)]!;
    return bytes;
  }

  /** Epoch milliseconds as the SDK's millisToHrTime makes them, in a scratch pair the writer reads at once. */
  #hrTime(epochMs: number): HrTime {
    const time = this.#time;
    time[0] = Math.trunc(epochMs / 1000);
    time[1] = Math.round((epochMs % 1000) * 1e6);
    return time;
  }
}

/** Each hex digit's value by its character code (0-9, a-f, A-F). */
const HEX_DIGITS = new Uint8Array(128);
for (let digit = 0; digit < 16; digit++) {
  const char = digit.toString(16);
  HEX_DIGITS[char.charCodeAt(0)] = digit;
  HEX_DIGITS[char.toUpperCase().charCodeAt(0)] = digit;
}

function writeStatus(writer: ProtobufWriter, status: SpanStatus): void {
  const lengthAt = writer.startLengthDelimited();
  const from = writer.pos;
  if (status.message) {
    writer.writeTag(2, 2);
    writer.writeString(status.message);
  }
  writer.writeTag(3, 0);
  writer.writeVarint(status.code);
  writer.finishLengthDelimited(lengthAt, writer.pos - from);
}
