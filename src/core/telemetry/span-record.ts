import type { Attributes, SpanKind, SpanStatus, TraceState } from '@opentelemetry/api';

// A finished span as the core draws it, in the OpenTelemetry API's terms
// only: src/telemetry encodes it to OTLP protobuf when it ends
// (encoded-span.ts), or shows it to the SDK's JSON exporter as a
// ReadableSpan (exported-span.ts).

export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  /** The parent span's id; none for a trace's root. */
  readonly parentSpanId: string | undefined;
  /** The parent is the client's span (from its traceparent), not one of ours. */
  readonly parentIsRemote: boolean;
  readonly traceFlags: number;
  readonly traceState: TraceState | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  /** Epoch milliseconds. */
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Attributes;
  readonly status: SpanStatus;
}
