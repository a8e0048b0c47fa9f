import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../../src/core/telemetry/span-record.js';
import { Tracing } from '../../src/core/telemetry/tracing.js';
import type { AttemptInfo } from '../../src/core/telemetry/tracing-seams.js';
import { requestSummary } from '../helpers/request-summary.js';

// An attempt's span keeps what it learns while the attempt runs and makes
// its attributes when it ends; the server span makes its HTTP attributes
// when the response is over. These pin what ends up on them.

function tracing(): { tracing: Tracing; spans: SpanRecord[] } {
  const spans: SpanRecord[] = [];
  let n = 0;
  const id = (chars: number) => (++n).toString(16).padStart(chars, '0');
  const t = new Tracing({
    sample: () => ({ sampled: true }),
    newTraceId: () => id(32),
    newSpanId: () => id(16),
    propagator: new W3CTraceContextPropagator(),
    export: (span) => spans.push(span),
    flush: async () => {},
    shutdown: async () => {},
  });
  return { tracing: t, spans };
}

const INFO: AttemptInfo = { operation: 'chat', provider: 'openai', modelId: 'gpt-4o-mini', upstreamModel: 'gpt-4o-mini', baseUrl: 'https://api.example.com/v1', upstreamKeyId: 'uk_1', attempt: 1 };

const summary = (requestId: string) => requestSummary(requestId, { usage: { promptTokens: 12, completionTokens: 20, cachedTokens: 4, reasoningTokens: 0 }, stream: true, ttftMs: 2 });

const named = (spans: SpanRecord[], name: string) => spans.find((s) => s.name === name)!;

describe('an attempt’s span', () => {
  it('carries what the attempt learned, each finish reason once, and the usage, when the request closes', () => {
    const { tracing: t, spans } = tracing();
    const trace = t.startRequest('req_1', {}, 'POST /v1/chat/completions', () => ({ 'http.request.method': 'POST' }));
    const attempt = t.startAttempt(trace, INFO, { 'x-gateway-hop': 'gw_1' })!;
    expect(attempt.headers).toEqual({ 'x-gateway-hop': 'gw_1', traceparent: `00-${trace.traceId}-${attempt.spanId}-01` });
    attempt.response(undefined);
    attempt.response('gpt-4o-mini-2024-07-18');
    attempt.response('another-model');
    attempt.firstChunk(Date.now());
    for (const reason of ['stop', null, 'length', 'stop', 'length', 'tool_calls']) attempt.finishReason(reason);
    attempt.succeeded();
    expect(spans).toEqual([]); // the span waits for the request's usage
    t.requestClosed(summary('req_1'));
    const span = named(spans, 'chat gpt-4o-mini');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.response.finish_reasons': ['stop', 'length', 'tool_calls'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.cache_read.input_tokens': 4,
      'server.address': 'api.example.com',
      'server.port': 443,
      'llm_gateway.upstream_key.id': 'uk_1',
      'llm_gateway.attempt': 1,
    });
    expect(typeof span.attributes['gen_ai.response.time_to_first_chunk']).toBe('number');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('gives one finish reason as a list of one, and a failure its status, error type and outcome', () => {
    const { tracing: t, spans } = tracing();
    const trace = t.startRequest('req_2', {}, 'POST /v1/chat/completions', () => ({}));
    const failed = t.startAttempt(trace, INFO)!;
    expect(failed.headers).toEqual({ traceparent: `00-${trace.traceId}-${failed.spanId}-01` });
    failed.failed('server_error', 503, 'Service Unavailable');
    const answered = t.startAttempt(trace, { ...INFO, attempt: 2 })!;
    answered.finishReason('stop');
    answered.finishReason('stop'); // n choices that all stopped
    answered.succeeded();
    t.requestClosed(summary('req_2'));
    const [first, second] = spans.filter((s) => s.name === 'chat gpt-4o-mini');
    expect(first!.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503', 'llm_gateway.attempt.outcome': 'server_error', 'llm_gateway.attempt': 1 });
    expect(first!.attributes).not.toHaveProperty('gen_ai.usage.input_tokens');
    expect(first!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Service Unavailable' });
    expect(second!.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
    expect(second!.attributes).not.toHaveProperty('error.type');
  });
});

describe('the server span', () => {
  it('makes its HTTP attributes when the response is over, with the request’s id, project and status', () => {
    const { tracing: t, spans } = tracing();
    let made = 0;
    const trace = t.startRequest('req_3', {}, 'POST /v1/chat/completions', () => {
      made++;
      return { 'http.request.method': 'POST', 'http.route': '/v1/chat/completions' };
    });
    expect(made).toBe(0);
    t.requestClosed(summary('req_3'));
    t.endRequest(trace, 502, false);
    t.endRequest(trace, 502, false); // once only
    expect(made).toBe(1);
    const server = named(spans, 'POST /v1/chat/completions');
    expect(server.attributes).toEqual({
      'http.request.method': 'POST',
      'http.route': '/v1/chat/completions',
      'llm_gateway.request.id': 'req_3',
      'llm_gateway.project.id': 'prj_1',
      'http.response.status_code': 502,
      'error.type': '502',
    });
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
  });
});
