import { type ExportResult, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
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
import type { SpanRecord } from '../core/telemetry/span-record.js';
import { Tracing } from '../core/telemetry/tracing.js';
import { EncodedRun, SpanEncoder } from './encoded-span.js';
import { encodedSpanSerializer, RequestBuffers } from './encoded-span-serializer.js';
import { ExportedSpan } from './exported-span.js';
import { PooledIdGenerator } from './pooled-ids.js';
import type { TracingSettings } from './tracing-settings.js';

// The OpenTelemetry SDK for the settings tracing-settings.ts read: loaded
// by create-tracing.ts only when tracing is on, and kept out of the core
// (which speaks @opentelemetry/api only). On a request's path: the
// sampler's decision (when it is not known beforehand), a trace id and four
// span ids (pooled-ids.ts), and each span the core drew (tracing.ts says
// why they are not the SDK Tracer's own) kept for its run, encoded and
// taken by the batch span processor.

/**
 * The configured sampler, and what it is known to answer without being
 * asked: whether it keeps every trace without a parent (most requests come
 * without a traceparent), and whether it keeps every trace whatever its
 * parent.
 */
interface SamplerPlan {
  sampler: Sampler;
  keepsRoots: boolean;
  keepsAll: boolean;
}

function samplerFor({ kind, ratio }: TracingSettings['sampler']): SamplerPlan {
  // A ratio of 1 keeps every trace: AlwaysOn, without hashing each trace id for the same answer.
  const whole = ratio >= 1;
  const ratioSampler = (): Sampler => (whole ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio));
  switch (kind) {
    case 'always_on':
      return { sampler: new AlwaysOnSampler(), keepsRoots: true, keepsAll: true };
    case 'always_off':
      return { sampler: new AlwaysOffSampler(), keepsRoots: false, keepsAll: false };
    case 'traceidratio':
      return { sampler: ratioSampler(), keepsRoots: whole, keepsAll: whole };
    case 'parentbased_always_off':
      return { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }), keepsRoots: false, keepsAll: false };
    case 'parentbased_traceidratio':
      return { sampler: new ParentBasedSampler({ root: ratioSampler() }), keepsRoots: whole, keepsAll: false };
    default:
      return { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), keepsRoots: true, keepsAll: false };
  }
}

const KEEP = Object.freeze({ sampled: true });

type Scope = { name: string };

/** Spans encoded together: the encoder's code and data stay warm through the run, where one span at a time finds them cold. */
const ENCODE_RUN = 64;
/** How long a span waits for its run to fill before it is encoded anyway (the batch span processor then waits for its batch). */
const ENCODE_WAIT_MS = 50;

interface SpanSink {
  take(span: SpanRecord): void;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * The batch settings for a processor that holds runs of up to `runLength`
 * spans: a batch or a queue of runs never holds more spans than the
 * settings allow (a run cut short by its wait counts as a whole one).
 */
export function runBatch(batch: TracingSettings['batch'], runLength: number): TracingSettings['batch'] {
  const maxExportBatchSize = Math.max(1, Math.floor(batch.maxExportBatchSize / runLength));
  return { ...batch, maxExportBatchSize, maxQueueSize: Math.max(maxExportBatchSize, Math.floor(batch.maxQueueSize / runLength)) };
}

/**
 * What takes each span the core ends, for the configured encoding. For
 * protobuf the spans are encoded in runs of ENCODE_RUN (encoded-span.ts),
 * a few requests' worth, short enough for their records to die young, and
 * the batch span processor batches the runs' bytes, counting runs
 * (runBatch); the exporter is built as
 * @opentelemetry/exporter-trace-otlp-proto builds it (the same HTTP
 * delegate), with a serializer that frames the bytes. For JSON each span
 * is shown to the SDK's exporter as a ReadableSpan (exported-span.ts).
 */
function spanSink(settings: TracingSettings, resource: Resource, scope: Scope): SpanSink {
  const config = { url: settings.url, headers: settings.headers };
  if (settings.protocol === 'http/json') {
    const processor = new BatchSpanProcessor(new ReleasingExporter(new OTLPTraceExporter(config)), { ...settings.batch });
    return { take: (span) => processor.onEnd(new ExportedSpan(span, resource, scope)), flush: () => processor.forceFlush(), shutdown: () => processor.shutdown() };
  }
  const options = convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
  const buffers = new RequestBuffers();
  const serializer = encodedSpanSerializer(resource, scope, buffers);
  const exporter = new OTLPExporterBase<ReadableSpan[]>(createOtlpHttpExportDelegate(options, serializer, 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined));
  // A batch of fewer spans than a run would be overrun by one run: runs are then as long as a batch.
  const runLength = Math.min(ENCODE_RUN, settings.batch.maxExportBatchSize);
  const processor = new BatchSpanProcessor(new ReleasingExporter(exporter, buffers), runBatch(settings.batch, runLength));
  const encoder = new SpanEncoder(resource);
  const run: SpanRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  const encodeRun = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (run.length === 0) return;
    // The processor reads two things of a span it takes, whether it is sampled and its resource: a run answers both; the serializer is ours.
    for (const encoded of encoder.encode(run)) processor.onEnd(encoded as unknown as ReadableSpan);
    run.length = 0;
  };
  return {
    take(span) {
      run.push(span);
      if (run.length >= runLength) encodeRun();
      else timer ??= setTimeout(encodeRun, ENCODE_WAIT_MS).unref();
    },
    flush() {
      encodeRun();
      return processor.forceFlush();
    },
    shutdown() {
      encodeRun();
      return processor.shutdown();
    },
  };
}

/**
 * The OTLP exporter, letting go of each span (or run) once it is encoded: the
 * exporter encodes a batch within export(), before it is sent, while the
 * batch span processor holds the batch until the collector answers. A
 * collector answering in tens of milliseconds would otherwise keep every
 * span of the batch alive through a scavenge or two, and the young
 * generation copies, then promotes, what it holds.
 */
export class ReleasingExporter implements SpanExporter {
  constructor(
    private readonly exporter: SpanExporter,
    /** The buffers the serializer writes requests to, given back when their export is over (retries included). */
    private readonly buffers?: RequestBuffers,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const { buffers } = this;
    try {
      this.exporter.export(
        spans,
        buffers
          ? (result) => {
              buffers.giveBack(spans);
              done(result);
            }
          : done,
      );
    } finally {
      for (const span of spans) if (span instanceof ExportedSpan || span instanceof EncodedRun) span.release();
    }
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.exporter.forceFlush?.() ?? Promise.resolve();
  }
}

/** The gateway's tracing for these settings: spans to the OTLP endpoint they name. */
export function tracingFor(settings: TracingSettings): Tracing {
  const resource = resourceFromAttributes({ ...settings.resourceAttributes, [ATTR_SERVICE_NAME]: settings.serviceName });
  const { sampler, keepsRoots, keepsAll } = samplerFor(settings.sampler);
  const ids = new PooledIdGenerator();
  const sink = spanSink(settings, resource, { name: 'llm-gateway' });
  return new Tracing({
    sample(parent, traceId, name) {
      if (keepsAll || (keepsRoots && !parent)) return KEEP;
      const context = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
      const result = sampler.shouldSample(context, traceId, name, SpanKind.SERVER, {}, []);
      // RECORD without SAMPLED would draw spans nobody exports: the gateway draws only to export.
      return { sampled: result.decision === SamplingDecision.RECORD_AND_SAMPLED, traceState: result.traceState };
    },
    newTraceId: () => ids.generateTraceId(),
    newSpanId: () => ids.generateSpanId(),
    propagator: new W3CTraceContextPropagator(),
    export: sink.take,
    flush: sink.flush,
    shutdown: sink.shutdown,
  });
}
