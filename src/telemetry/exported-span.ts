import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import { type InstrumentationScope, millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { SpanRecord } from '../core/telemetry/span-record.js';

const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];

/**
 * A span the core drew (span-record.ts) as the SDK's span processor and
 * OTLP serializers read a finished span. A thin view: what the encoders
 * ask for is worked out when they ask, at export, so nothing but the
 * record waits in the batch.
 */
export class ExportedSpan implements ReadableSpan {
  constructor(
    private readonly record: SpanRecord,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
  ) {}

  spanContext(): SpanContext {
    const { traceId, spanId, traceFlags, traceState } = this.record;
    return traceState ? { traceId, spanId, traceFlags, traceState } : { traceId, spanId, traceFlags };
  }

  get parentSpanContext(): SpanContext | undefined {
    const { traceId, parentSpanId, traceFlags, parentIsRemote } = this.record;
    return parentSpanId === undefined ? undefined : { traceId, spanId: parentSpanId, traceFlags, isRemote: parentIsRemote };
  }

  get name(): string {
    return this.record.name;
  }

  get kind(): SpanKind {
    return this.record.kind;
  }

  get startTime(): HrTime {
    return millisToHrTime(this.record.startMs);
  }

  get endTime(): HrTime {
    return millisToHrTime(this.record.endMs);
  }

  get duration(): HrTime {
    return millisToHrTime(this.record.endMs - this.record.startMs);
  }

  get status(): SpanStatus {
    return this.record.status;
  }

  get attributes(): Attributes {
    return this.record.attributes;
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
