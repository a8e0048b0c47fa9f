import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import { type InstrumentationScope, millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { SpanRecord } from '../core/telemetry/span-record.js';

const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];

/** What a span shows once its batch is encoded: nothing of the request it was. */
const RELEASED: SpanRecord = Object.freeze({
  traceId: '',
  spanId: '',
  parentSpanId: undefined,
  parentIsRemote: false,
  traceFlags: 0,
  traceState: undefined,
  name: '',
  kind: 0,
  startMs: 0,
  endMs: 0,
  attributes: Object.freeze({}),
  status: Object.freeze({ code: 0 }),
});

/**
 * A span the core drew (span-record.ts) as the SDK's span processor and
 * OTLP serializers read a finished span. A thin view: what the encoders ask
 * for is worked out when they ask, at export, so nothing but the record
 * waits in the batch. The contexts are kept once made: the processor reads
 * the span's when it takes the span, and the encoder reads both again.
 */
export class ExportedSpan implements ReadableSpan {
  #record: SpanRecord;
  #context: SpanContext | undefined;
  /** null: no parent (worked out); undefined: not asked yet. */
  #parent: SpanContext | null | undefined;

  constructor(
    record: SpanRecord,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
  ) {
    this.#record = record;
  }

  /**
   * Lets go of the span's record once its batch is encoded. The batch span
   * processor keeps the batch's array until the collector answers (its
   * callback counts it), and with it every record, attribute and id its
   * spans held: objects that would outlive a scavenge or two for nothing.
   */
  release(): void {
    this.#record = RELEASED;
    this.#context = undefined;
    this.#parent = undefined;
  }

  spanContext(): SpanContext {
    if (this.#context) return this.#context;
    const { traceId, spanId, traceFlags, traceState } = this.#record;
    this.#context = traceState ? { traceId, spanId, traceFlags, traceState } : { traceId, spanId, traceFlags };
    return this.#context;
  }

  get parentSpanContext(): SpanContext | undefined {
    if (this.#parent === undefined) {
      const { traceId, parentSpanId, traceFlags, parentIsRemote } = this.#record;
      this.#parent = parentSpanId === undefined ? null : { traceId, spanId: parentSpanId, traceFlags, isRemote: parentIsRemote };
    }
    return this.#parent ?? undefined;
  }

  get name(): string {
    return this.#record.name;
  }

  get kind(): SpanKind {
    return this.#record.kind;
  }

  get startTime(): HrTime {
    return millisToHrTime(this.#record.startMs);
  }

  get endTime(): HrTime {
    return millisToHrTime(this.#record.endMs);
  }

  get duration(): HrTime {
    return millisToHrTime(this.#record.endMs - this.#record.startMs);
  }

  get status(): SpanStatus {
    return this.#record.status;
  }

  get attributes(): Attributes {
    return this.#record.attributes;
  }

  get links(): Link[] {
    return NO_LINKS;
  }

  get events(): TimedEvent[] {
    return NO_EVENTS;
  }

  get ended(): boolean {
    return true;
  }

  get droppedAttributesCount(): number {
    return 0;
  }

  get droppedEventsCount(): number {
    return 0;
  }

  get droppedLinksCount(): number {
    return 0;
  }
}
