import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IAnyValue, IKeyValue } from '@opentelemetry/otlp-transformer/build/src/common/internal-types.js';
import type { IExportTraceServiceRequest, ISpan } from '@opentelemetry/otlp-transformer/build/src/trace/internal-types.js';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../../src/core/money.js';
import { usageRecords } from '../../src/db/schema.js';
import { tracingSettings } from '../../src/telemetry/create-tracing.js';
import { startOpenAIEmulator } from '../emulators/index.js';
import { liveModel } from '../helpers/live-routes.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { useTwoUpstreams, useUpstream } from '../helpers/use-upstreams.js';

// The gateway's spans as an OTLP/HTTP collector receives them. The exporter
// (@opentelemetry/exporter-trace-otlp-http) sends OTLP's JSON encoding, and
// @opentelemetry/otlp-transformer (the SDK's own encoder) has no decoder for
// requests, only for responses: bodies are read with JSON.parse into the
// transformer's own request types, not with a parser of ours.

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  status: { code: number; message?: string };
  attributes: Record<string, unknown>;
  serviceName: unknown;
}

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

const hex = (id: string | Uint8Array | undefined): string | undefined =>
  id === undefined || id === '' ? undefined : typeof id === 'string' ? id : Buffer.from(id).toString('hex');

function anyValue(v: IAnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) return Number(v.intValue);
  if (v.doubleValue != null) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  return undefined;
}

const attributesOf = (kvs: IKeyValue[] | undefined): Record<string, unknown> => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, anyValue(kv.value)]));

/** An OTLP/HTTP trace receiver: what the SDK POSTs to /v1/traces, decoded. */
async function startReceiver(): Promise<{ url: string; spans: Span[]; contentTypes: Set<string>; protobufBodies: Buffer[]; close(): Promise<void> }> {
  const spans: Span[] = [];
  const contentTypes = new Set<string>();
  const protobufBodies: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.add(String(req.headers['content-type']));
      if (req.headers['content-type'] === 'application/x-protobuf') {
        protobufBodies.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as IExportTraceServiceRequest;
      for (const rs of body.resourceSpans ?? []) {
        const serviceName = attributesOf(rs.resource?.attributes)['service.name'];
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans ?? ([] as ISpan[])) {
            spans.push({
              traceId: hex(s.traceId)!,
              spanId: hex(s.spanId)!,
              parentSpanId: hex(s.parentSpanId),
              name: s.name,
              kind: s.kind,
              status: s.status as Span['status'],
              attributes: attributesOf(s.attributes),
              serviceName,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    protobufBodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const PROMPT = `The prompt text ${randomBytes(6).toString('hex')}`;
const ANSWER = `The answer text ${randomBytes(6).toString('hex')}`;
const newTraceId = () => randomBytes(16).toString('hex');
const newSpanId = () => randomBytes(8).toString('hex');

/** Every span of one trace, once the settlement is written and the exporter has flushed. */
async function spansOf(gw: TestGateway, spans: Span[], traceId: string): Promise<Span[]> {
  await gw.gateway.metering.idle();
  await gw.gateway.tracing!.flush();
  return spans.filter((s) => s.traceId === traceId);
}

/** The request's usage row once its settlement (which writes the trace id) is in. */
async function usageRow(gw: TestGateway, requestId: string) {
  await gw.gateway.metering.idle();
  const [row] = await gw.database.db.select().from(usageRecords).where(eq(usageRecords.id, requestId));
  return row!;
}

function expectNoText(spans: Span[]): void {
  const text = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.status]));
  expect(text).not.toContain(PROMPT);
  expect(text).not.toContain(ANSWER);
}

describe('with tracing on', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const env: Record<string, string> = {};
  beforeAll(async () => {
    receiver = await startReceiver();
    env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    env.OTEL_SERVICE_NAME = 'gateway-under-test';
    // The SDK's JSON encoding, which the test can decode (the default, protobuf, is checked below).
    env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  });
  // Registered after the receiver's beforeAll, so the gateway starts with its address in `env`.
  const up = useTwoUpstreams(startOpenAIEmulator, { env });
  afterAll(async () => {
    await receiver.close();
  });
  let n = 0;

  async function setup() {
    const id = `trace-${++n}`;
    const keyIds = await liveModel(up.gw, { id, upstreamModel: `${id}-upstream`, keys: [{ baseUrl: up.a.url }, { baseUrl: up.b.url }] });
    const project = await up.gw.project({ mode: 'live', balance: '10' });
    return { model: id, keyIds, ...project, client: up.gw.client(project.secret) };
  }

  it('draws server → admission, two attempts (one failed over), settlement, continuing the client trace to the upstream', async () => {
    up.a.enqueue({ status: 500 });
    up.b.setScript({ text: ANSWER, usage: { input: 11, output: 7 } });
    const s = await setup();
    const traceId = newTraceId();
    const clientSpanId = newSpanId();
    const res = await s.client.chat.completions
      .create({ model: s.model, messages: [{ role: 'user', content: PROMPT }], temperature: 0.5 }, { headers: { traceparent: `00-${traceId}-${clientSpanId}-01`, tracestate: 'vendor=abc' } })
      .withResponse();
    expect(res.data.choices[0]!.message.content).toBe(ANSWER);
    const requestId = res.response.headers.get('x-request-id')!;

    const spans = await spansOf(up.gw, receiver.spans, traceId);
    const server = spans.find((sp) => sp.kind === SERVER)!;
    expect(server).toMatchObject({
      name: 'POST /v1/chat/completions',
      parentSpanId: clientSpanId,
      serviceName: 'gateway-under-test',
      attributes: {
        'http.request.method': 'POST',
        'http.route': '/v1/chat/completions',
        'url.path': '/v1/chat/completions',
        'http.response.status_code': 200,
        'llm_gateway.request.id': requestId,
        'llm_gateway.project.id': s.projectId,
      },
    });
    const children = spans.filter((sp) => sp.parentSpanId === server.spanId);
    expect(children.map((c) => c.name).sort()).toEqual(['admission', 'chat trace-1-upstream', 'chat trace-1-upstream', 'settlement']);

    const row = await usageRow(up.gw, requestId);
    expect(row.traceId).toBe(traceId);
    const admission = children.find((c) => c.name === 'admission')!;
    expect(admission.attributes['llm_gateway.reservation.cost']).toMatch(/^0\.\d+$/);
    expect(['lease', 'row']).toContain(admission.attributes['llm_gateway.reservation.holder']);
    const settlement = children.find((c) => c.name === 'settlement')!;
    expect(settlement.attributes).toMatchObject({ 'llm_gateway.cost': formatMoney(parseMoney(row.cost)) });
    expect(settlement.attributes['llm_gateway.settlement.batch_size']).toBeGreaterThanOrEqual(1);

    const [failed, answered] = children.filter((c) => c.kind === CLIENT).sort((x, y) => Number(x.attributes['llm_gateway.attempt']) - Number(y.attributes['llm_gateway.attempt']));
    expect(failed!.status.code).toBe(ERROR);
    expect(failed!.attributes).toMatchObject({ 'error.type': '500', 'http.response.status_code': 500, 'llm_gateway.attempt': 1, 'llm_gateway.upstream_key.id': s.keyIds[0] });
    expect(answered!.status.code).not.toBe(ERROR);
    expect(answered!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'trace-1-upstream',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': row.promptTokens,
      'gen_ai.usage.output_tokens': row.completionTokens,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(up.b.url).port),
      'llm_gateway.attempt': 2,
      'llm_gateway.upstream_key.id': s.keyIds[1],
    });
    expect(row.promptTokens).toBe(11);
    expect(row.completionTokens).toBe(7);
    expect(answered!.attributes['gen_ai.response.model']).toEqual(expect.any(String));
    expect(answered!.attributes).not.toHaveProperty('error.type');

    // Each upstream got the client's trace, with its own attempt's span as the parent.
    expect(up.a.requests[0]!.headers.traceparent).toBe(`00-${traceId}-${failed!.spanId}-01`);
    expect(up.b.requests[0]!.headers.traceparent).toBe(`00-${traceId}-${answered!.spanId}-01`);
    expect(up.b.requests[0]!.headers.tracestate).toBe('vendor=abc');
    expectNoText(spans);
    expect([...receiver.contentTypes]).toEqual(['application/json']);
  });

  it('traces a stream: the attempt ends with it, with the usage row’s counts and its finish reason', async () => {
    up.a.setScript({ text: ANSWER, usage: { input: 9, output: 4 }, chunks: 3 });
    const s = await setup();
    const stream = await s.client.chat.completions.create({ model: s.model, messages: [{ role: 'user', content: PROMPT }], stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(ANSWER);
    const requestId = stream.response.headers.get('x-request-id')!;
    const row = await usageRow(up.gw, requestId);
    expect(row.traceId).toMatch(/^[0-9a-f]{32}$/);
    const spans = await spansOf(up.gw, receiver.spans, row.traceId!);
    const server = spans.find((sp) => sp.kind === SERVER)!;
    // No traceparent from the client: the server span starts the trace.
    expect(server.parentSpanId).toBeUndefined();
    const attempt = spans.find((sp) => sp.kind === CLIENT)!;
    expect(attempt.parentSpanId).toBe(server.spanId);
    expect(attempt.attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 9,
      'gen_ai.usage.output_tokens': 4,
    });
    expect(attempt.attributes['gen_ai.response.time_to_first_chunk']).toEqual(expect.any(Number));
    expect(up.a.requests[0]!.headers.traceparent).toBe(`00-${row.traceId}-${attempt.spanId}-01`);
    expect(spans.map((sp) => sp.name).sort()).toEqual(['POST /v1/chat/completions', 'admission', 'chat trace-2-upstream', 'settlement']);
    expectNoText(spans);
  });

  it('traces embeddings as the embeddings operation', async () => {
    const id = `trace-emb-${++n}`;
    await liveModel(up.gw, { id, kind: 'embedding', upstreamModel: 'text-embedding-3-small', keys: [{ baseUrl: up.a.url }] });
    const project = await up.gw.project({ mode: 'live', balance: '10' });
    const res = await up.gw.client(project.secret).embeddings.create({ model: id, input: PROMPT }).withResponse();
    const row = await usageRow(up.gw, res.response.headers.get('x-request-id')!);
    const spans = await spansOf(up.gw, receiver.spans, row.traceId!);
    const attempt = spans.find((sp) => sp.kind === CLIENT)!;
    expect(attempt.name).toBe('embeddings text-embedding-3-small');
    expect(attempt.attributes).toMatchObject({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.usage.input_tokens': row.promptTokens });
    expectNoText(spans);
  });

  it('marks a refused request’s admission span as the error, with no attempt', async () => {
    const s = await setup();
    const poor = await up.gw.project({ mode: 'live', balance: '0' });
    const traceId = newTraceId();
    await expect(
      up.gw.client(poor.secret).chat.completions.create({ model: s.model, messages: [{ role: 'user', content: PROMPT }] }, { headers: { traceparent: `00-${traceId}-${newSpanId()}-01` } }),
    ).rejects.toMatchObject({ status: 402 });
    const spans = await spansOf(up.gw, receiver.spans, traceId);
    expect(spans.map((sp) => sp.name).sort()).toEqual(['POST /v1/chat/completions', 'admission']);
    const admission = spans.find((sp) => sp.name === 'admission')!;
    expect(admission.status.code).toBe(ERROR);
    expect(admission.attributes['error.type']).toEqual(expect.any(String));
    // A 4xx is the client's: the server span is not an error.
    expect(spans.find((sp) => sp.kind === SERVER)!.status.code).not.toBe(ERROR);
  });
});

describe('with the default encoding', () => {
  it('exports OTLP protobuf carrying the request’s trace', async () => {
    const receiver = await startReceiver();
    const gw = await startGateway({ env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces` } });
    try {
      const project = await gw.project({ mode: 'test' });
      const traceId = newTraceId();
      await gw.client(project.secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] }, { headers: { traceparent: `00-${traceId}-${newSpanId()}-01` } });
      await gw.gateway.metering.idle();
      await gw.gateway.tracing!.flush();
      expect([...receiver.contentTypes]).toEqual(['application/x-protobuf']);
      // No decoder for requests ships with the OpenTelemetry packages: the ids and names are looked for as the bytes protobuf writes.
      const body = Buffer.concat(receiver.protobufBodies);
      expect(body.includes(Buffer.from(traceId, 'hex'))).toBe(true);
      for (const name of ['POST /v1/chat/completions', 'admission', 'chat gpt-4o-mini', 'settlement']) expect(body.includes(Buffer.from(name))).toBe(true);
      expect(body.includes(Buffer.from(PROMPT))).toBe(false);
    } finally {
      await gw.close();
      await receiver.close();
    }
  });
});

describe('with a sampler that keeps nothing', () => {
  it('still gives the request a trace id, sends it upstream unsampled, and exports no span', async () => {
    const receiver = await startReceiver();
    const upstream = await startOpenAIEmulator();
    const gw = await startGateway({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'always_off' } });
    try {
      await liveModel(gw, { id: 'unsampled', keys: [{ baseUrl: upstream.url }] });
      const project = await gw.project({ mode: 'live', balance: '10' });
      const res = await gw.client(project.secret).chat.completions.create({ model: 'unsampled', messages: [{ role: 'user', content: PROMPT }] }).withResponse();
      const row = await usageRow(gw, res.response.headers.get('x-request-id')!);
      expect(row.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(upstream.requests[0]!.headers.traceparent).toMatch(new RegExp(`^00-${row.traceId}-[0-9a-f]{16}-00$`));
      await gw.gateway.tracing!.flush();
      expect(receiver.spans).toEqual([]);
    } finally {
      await gw.close();
      await upstream.close();
      await receiver.close();
    }
  });
});

describe('with tracing off', () => {
  const up = useUpstream(startOpenAIEmulator);

  it('records the client’s trace id on the usage row and passes its traceparent on unchanged', async () => {
    expect(up.gw.gateway.tracing).toBeUndefined();
    const id = 'untraced';
    await liveModel(up.gw, { id, keys: [{ baseUrl: up.emulator.url }] });
    const project = await up.gw.project({ mode: 'live', balance: '10' });
    const traceparent = `00-${newTraceId()}-${newSpanId()}-01`;
    const res = await up.gw.client(project.secret).chat.completions.create({ model: id, messages: [{ role: 'user', content: 'hi' }] }, { headers: { traceparent } }).withResponse();
    await up.gw.gateway.metering.idle();
    const row = await usageRow(up.gw, res.response.headers.get('x-request-id')!);
    expect(row.traceId).toBe(traceparent.split('-')[1]);
    expect(up.emulator.requests[0]!.headers.traceparent).toBe(traceparent);
  });

  it('ignores a malformed traceparent', async () => {
    const project = await up.gw.project({ mode: 'live', balance: '10' });
    const res = await up.gw.client(project.secret).chat.completions.create({ model: 'untraced', messages: [{ role: 'user', content: 'hi' }] }, { headers: { traceparent: '00-zz-yy-01' } }).withResponse();
    await up.gw.gateway.metering.idle();
    const row = await usageRow(up.gw, res.response.headers.get('x-request-id')!);
    expect(row.traceId).toBeNull();
    expect(up.emulator.requests.at(-1)!.headers.traceparent).toBeUndefined();
  });
});

describe('tracing settings', () => {
  it('is off without an OTLP endpoint or exporter, and with OTEL_SDK_DISABLED or the none exporter', () => {
    expect(tracingSettings({})).toBeUndefined();
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('reads the standard variables', () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ url: 'http://localhost:4318/v1/traces', protocol: 'http/protobuf', serviceName: 'llm-gateway', samplerName: 'parentbased_always_on' });
    expect(
      tracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20x,x-team=a',
        OTEL_SERVICE_NAME: 'gw',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }),
    ).toMatchObject({
      url: 'https://collector:4318/v1/traces',
      headers: { authorization: 'Bearer x', 'x-team': 'a' },
      serviceName: 'gw',
      resourceAttributes: { 'deployment.environment': 'prod' },
      samplerName: 'parentbased_traceidratio 0.25',
    });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:9999/custom' })?.url).toBe('http://c:9999/custom');
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp' })?.batch).toEqual({ maxExportBatchSize: 2048, maxQueueSize: 8192, scheduledDelayMillis: 5000, exportTimeoutMillis: 30000 });
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '128', OTEL_BSP_SCHEDULE_DELAY: '200' })?.batch).toMatchObject({ maxExportBatchSize: 128, scheduledDelayMillis: 200 });
  });

  it('stops the start naming a wrong variable', () => {
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER: must be one of/);
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: must be an http/);
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER/);
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_MAX_QUEUE_SIZE: 'lots' })).toThrow(/OTEL_BSP_MAX_QUEUE_SIZE: must be a positive whole number/);
    expect(() => tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '9000' })).toThrow(/must not exceed OTEL_BSP_MAX_QUEUE_SIZE/);
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: must be http\/protobuf or http\/json/);
  });
});
