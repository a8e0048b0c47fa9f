import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { ConfigError } from '../config.js';

// What the standard OTEL_* variables ask of tracing. Off unless an OTLP
// endpoint or OTEL_TRACES_EXPORTER=otlp says where spans go; only then is
// the SDK loaded (create-tracing.ts), so a gateway without traces carries
// none of it.
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
  /** The sampler as configured (`parentbased_traceidratio 0.25`), also the start-up log line's. */
  samplerName: string;
  sampler: { kind: (typeof SAMPLERS)[number]; ratio: number };
  /** The batch span processor's limits (the OTEL_BSP_* variables). */
  batch: BatchSettings;
}

export interface BatchSettings {
  maxExportBatchSize: number;
  maxQueueSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

/**
 * The spec's delays, with batches and a queue four times larger. Batches:
 * an export costs the gateway a fixed part (an HTTP request, its response,
 * timers, the exporter's promises) on top of its bytes, so at a few
 * thousand requests a second (four spans each) the spec's 512-span batches
 * went out fifteen times a second; 2,048 spans of ~300 bytes make a
 * request of ~600 KB, far below collectors' body limits (the OpenTelemetry
 * Collector's is 20 MiB). Queue: the processor sends one batch at a time,
 * and what arrives while the queue is full is dropped, so it holds four
 * batches while one is on its way to a distant collector.
 */
const BATCH_DEFAULTS: Readonly<BatchSettings> = { maxExportBatchSize: 2048, maxQueueSize: 8192, scheduledDelayMillis: 5000, exportTimeoutMillis: 30000 };
const BATCH_VARIABLES: ReadonlyArray<[keyof BatchSettings, string]> = [
  ['maxExportBatchSize', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'],
  ['maxQueueSize', 'OTEL_BSP_MAX_QUEUE_SIZE'],
  ['scheduledDelayMillis', 'OTEL_BSP_SCHEDULE_DELAY'],
  ['exportTimeoutMillis', 'OTEL_BSP_EXPORT_TIMEOUT'],
];

function batchOf(env: Env): BatchSettings {
  const batch = { ...BATCH_DEFAULTS };
  for (const [field, name] of BATCH_VARIABLES) {
    const raw = value(env, name);
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name}: must be a positive whole number (got ${JSON.stringify(raw)})`);
    batch[field] = n;
  }
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    throw new ConfigError(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${batch.maxExportBatchSize}) must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${batch.maxQueueSize})`);
  }
  return batch;
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

function samplerOf(env: Env): { kind: (typeof SAMPLERS)[number]; ratio: number; name: string } {
  const name = (value(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase();
  const kind = SAMPLERS.find((s) => s === name);
  if (!kind) throw new ConfigError(`OTEL_TRACES_SAMPLER: must be one of ${SAMPLERS.join(', ')} (got ${JSON.stringify(name)})`);
  if (!kind.endsWith('traceidratio')) return { kind, ratio: 1, name };
  const arg = value(env, 'OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined ? 1 : Number(arg);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG: must be a ratio from 0 to 1 (got ${JSON.stringify(arg)})`);
  return { kind, ratio, name: `${name} ${ratio}` };
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
  const { kind, ratio, name } = samplerOf(env);
  return {
    url: tracesUrl(env),
    protocol,
    headers: { ...parseKeyPairsIntoRecord(value(env, 'OTEL_EXPORTER_OTLP_HEADERS')), ...parseKeyPairsIntoRecord(value(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS')) },
    serviceName: value(env, 'OTEL_SERVICE_NAME') ?? 'llm-gateway',
    resourceAttributes: parseKeyPairsIntoRecord(value(env, 'OTEL_RESOURCE_ATTRIBUTES')),
    sampler: { kind, ratio },
    samplerName: name,
    batch: batchOf(env),
  };
}

