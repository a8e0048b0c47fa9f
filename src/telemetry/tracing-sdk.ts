import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { Tracing } from '../core/telemetry/tracing.js';
import type { TracingSettings } from './tracing-settings.js';

// The OpenTelemetry SDK for the settings tracing-settings.ts read: loaded
// by create-tracing.ts only when tracing is on, and kept out of the core
// (which speaks @opentelemetry/api only); nothing of it is on a request's
// path but a Tracer.

function samplerFor({ kind, ratio }: TracingSettings['sampler']): Sampler {
  switch (kind) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

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

/** The gateway's tracing for these settings. */
export function tracingFor(settings: TracingSettings): Tracing {
  const exporter = exporterFor(settings);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...settings.resourceAttributes, [ATTR_SERVICE_NAME]: settings.serviceName }),
    sampler: samplerFor(settings.sampler),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  return new Tracing({
    tracer: provider.getTracer('llm-gateway'),
    propagator: new W3CTraceContextPropagator(),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  });
}
