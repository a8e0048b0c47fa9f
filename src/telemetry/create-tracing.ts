import { parseKeyPairsIntoRecord, W3CTraceContextPropagator } from '@opentelemetry/core';
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
import { ConfigError } from '../config.js';
import { Tracing } from '../core/telemetry/tracing.js';

// The OpenTelemetry SDK, built from the standard OTEL_* variables, kept out
// of the core (which speaks @opentelemetry/api only). Off unless an OTLP
// endpoint or OTEL_TRACES_EXPORTER=otlp says where spans go: then nothing of
// it is loaded into a request's path but a Tracer.
//
// The variables are read from the environment given (process.env in
// src/main.ts, a test's own in test/helpers/start-gateway.ts) and checked
// here, so a wrong value stops the start naming it, where the SDK's own
// readers would log it at a diagnostic level nobody listens to and fall back.

type Env = Record<string, string | undefined>;

export interface TracingSettings {
  /** Where spans are POSTed (OTLP/HTTP). */
  url: string;
  /** OTLP's encoding: protobuf (the spec's default) or JSON. */
  protocol: 'http/protobuf' | 'http/json';
  headers: Record<string, string>;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  sampler: Sampler;
  /** The sampler as configured, for the start-up log line. */
  samplerName: string;
}

const DEFAULT_ENDPOINT = 'http://localhost:4318';
const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

const value = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v ? v : undefined;
};

function checkedUrl(name: string, raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    return raw;
  } catch {
    throw new ConfigError(`${name}: must be an http:// or https:// URL (got ${JSON.stringify(raw)})`);
  }
}

/** The traces endpoint: the signal's own variable as it is, else the base endpoint plus /v1/traces (the OTLP spec's rule). */
function tracesUrl(env: Env): string {
  const own = value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (own) return checkedUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', own);
  const base = checkedUrl('OTEL_EXPORTER_OTLP_ENDPOINT', value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') ?? DEFAULT_ENDPOINT);
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function samplerOf(env: Env): { sampler: Sampler; name: string } {
  const name = (value(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase();
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    throw new ConfigError(`OTEL_TRACES_SAMPLER: must be one of ${SAMPLERS.join(', ')} (got ${JSON.stringify(name)})`);
  }
  const ratio = (): number => {
    const arg = value(env, 'OTEL_TRACES_SAMPLER_ARG');
    if (arg === undefined) return 1;
    const n = Number(arg);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG: must be a ratio from 0 to 1 (got ${JSON.stringify(arg)})`);
    return n;
  };
  switch (name) {
    case 'always_on':
      return { sampler: new AlwaysOnSampler(), name };
    case 'always_off':
      return { sampler: new AlwaysOffSampler(), name };
    case 'traceidratio': {
      const r = ratio();
      return { sampler: new TraceIdRatioBasedSampler(r), name: `${name} ${r}` };
    }
    case 'parentbased_always_off':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }), name };
    case 'parentbased_traceidratio': {
      const r = ratio();
      return { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(r) }), name: `${name} ${r}` };
    }
    default:
      return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), name };
  }
}

/** What the environment asks of tracing, or undefined when it is off. */
export function tracingSettings(env: Env): TracingSettings | undefined {
  if (value(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const exporters = value(env, 'OTEL_TRACES_EXPORTER')
    ?.split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '');
  if (exporters?.includes('none')) return undefined;
  const unsupported = exporters?.find((e) => e !== 'otlp');
  if (unsupported) throw new ConfigError(`OTEL_TRACES_EXPORTER: only otlp (or none) is supported (got ${JSON.stringify(unsupported)})`);
  const wanted = exporters !== undefined || value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined || value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined;
  if (!wanted) return undefined;
  const protocolVar = value(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = value(env, protocolVar) ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new ConfigError(`${protocolVar}: must be http/protobuf or http/json (got ${JSON.stringify(protocol)}); the gateway exports OTLP over HTTP (port 4318 on a collector), not grpc`);
  }
  const { sampler, name } = samplerOf(env);
  return {
    url: tracesUrl(env),
    protocol,
    headers: { ...parseKeyPairsIntoRecord(value(env, 'OTEL_EXPORTER_OTLP_HEADERS')), ...parseKeyPairsIntoRecord(value(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS')) },
    serviceName: value(env, 'OTEL_SERVICE_NAME') ?? 'llm-gateway',
    resourceAttributes: parseKeyPairsIntoRecord(value(env, 'OTEL_RESOURCE_ATTRIBUTES')),
    sampler,
    samplerName: name,
  };
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

/** The gateway's tracing from the environment, or undefined when the environment leaves it off. */
export function createTracing(env: Env): { tracing: Tracing; settings: TracingSettings } | undefined {
  const settings = tracingSettings(env);
  if (!settings) return undefined;
  const exporter = exporterFor(settings);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...settings.resourceAttributes, [ATTR_SERVICE_NAME]: settings.serviceName }),
    sampler: settings.sampler,
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracing = new Tracing({
    tracer: provider.getTracer('llm-gateway'),
    propagator: new W3CTraceContextPropagator(),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  });
  return { tracing, settings };
}
