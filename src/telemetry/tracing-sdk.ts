import { type ExportResult, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { Tracing } from '../core/telemetry/tracing.js';
import { ExportedSpan } from './exported-span.js';
import { PooledIdGenerator } from './pooled-ids.js';
import type { TracingSettings } from './tracing-settings.js';

// The OpenTelemetry SDK for the settings tracing-settings.ts read: loaded
// by create-tracing.ts only when tracing is on, and kept out of the core
// (which speaks @opentelemetry/api only). On a request's path: the
// sampler's decision, a trace id and four span ids (pooled-ids.ts), and
// the span processor taking the spans the core drew (tracing.ts says why
// they are not the SDK Tracer's own).

function samplerFor({ kind, ratio }: TracingSettings['sampler']): Sampler {
  switch (kind) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratioSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratioSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** A ratio of 1 keeps every trace: no hashing of each trace id to decide it. */
const ratioSampler = (ratio: number): Sampler => (ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio));

/**
 * The OTLP/HTTP exporter for the configured encoding. Protobuf is built as
 * @opentelemetry/exporter-trace-otlp-proto builds it (the same delegate and
 * the transformer's own serializer): it writes spans straight to bytes, at
 * under half the CPU and size of the JSON encoding.
 */
function exporterFor(settings: TracingSettings): SpanExporter {
  const config = { url: settings.url, headers: settings.headers };
  if (settings.protocol === 'http/json') return new OTLPTraceExporter(config);
  const options = convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
  return new OTLPExporterBase<ReadableSpan[]>(createOtlpHttpExportDelegate(options, ProtobufTraceSerializer, 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined));
}

/**
 * The OTLP exporter, letting go of each span once it is encoded: the
 * exporter encodes a batch within export(), before it is sent, while the
 * batch span processor holds the batch until the collector answers. A
 * collector answering in tens of milliseconds would otherwise keep every
 * span of the batch alive through a scavenge or two, and the young
 * generation copies, then promotes, what it holds.
 */
export class ReleasingExporter implements SpanExporter {
  constructor(private readonly exporter: SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      this.exporter.export(spans, done);
    } finally {
      for (const span of spans) if (span instanceof ExportedSpan) span.release();
    }
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.exporter.forceFlush?.() ?? Promise.resolve();
  }
}

/** The gateway's tracing for these settings (spans to the OTLP endpoint they name, unless another exporter is given). */
export function tracingFor(settings: TracingSettings, exporter: SpanExporter = new ReleasingExporter(exporterFor(settings))): Tracing {
  const resource = resourceFromAttributes({ ...settings.resourceAttributes, [ATTR_SERVICE_NAME]: settings.serviceName });
  const scope = { name: 'llm-gateway' };
  const sampler = samplerFor(settings.sampler);
  const ids = new PooledIdGenerator();
  const processor = new BatchSpanProcessor(exporter, { ...settings.batch });
  return new Tracing({
    sample(parent, traceId, name) {
      const context = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
      const result = sampler.shouldSample(context, traceId, name, SpanKind.SERVER, {}, []);
      // RECORD without SAMPLED would draw spans nobody exports: the gateway draws only to export.
      return { sampled: result.decision === SamplingDecision.RECORD_AND_SAMPLED, traceState: result.traceState };
    },
    newTraceId: () => ids.generateTraceId(),
    newSpanId: () => ids.generateSpanId(),
    propagator: new W3CTraceContextPropagator(),
    export: (record) => processor.onEnd(new ExportedSpan(record, resource, scope)),
    flush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
  });
}
