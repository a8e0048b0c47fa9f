import { describe, expect, it } from 'vitest';
import { tracingFor } from '../../src/telemetry/tracing-sdk.js';
import { tracingSettings } from '../../src/telemetry/tracing-settings.js';

// The gateway answers for the sampler when the answer is known without
// asking it (every root kept, or every trace); a parent-based sampler is
// still asked about a request that names a parent.

const PARENT = '0af7651916cd43dd8448eb211c80319c';
const headersWith = (flags: string) => ({ traceparent: `00-${PARENT}-b7ad6b7169203331-${flags}` });

function sampled(env: Record<string, string | undefined>, headers: Record<string, string>): boolean {
  // Nothing is exported: the endpoint is never called, the trace is only opened.
  const tracing = tracingFor(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env })!);
  const trace = tracing.startRequest('req_1', headers, 'POST /v1/chat/completions', () => ({}));
  return trace.sampled === true;
}

describe('the sampler of a request’s trace', () => {
  it('follows the client’s sampled flag when parent-based, whatever its root sampler keeps', () => {
    for (const env of [{}, { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' }, { OTEL_TRACES_SAMPLER: 'parentbased_always_off' }]) {
      expect(sampled(env, headersWith('00'))).toBe(false);
      expect(sampled(env, headersWith('01'))).toBe(true);
    }
  });

  it('keeps every root trace when the root sampler keeps all, and none when it keeps none', () => {
    expect(sampled({}, {})).toBe(true);
    expect(sampled({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' }, {})).toBe(true);
    expect(sampled({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, {})).toBe(false);
    expect(sampled({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, {})).toBe(false);
  });

  it('keeps every trace, an unsampled parent’s too, when not parent-based and keeping all', () => {
    expect(sampled({ OTEL_TRACES_SAMPLER: 'always_on' }, headersWith('00'))).toBe(true);
    expect(sampled({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' }, headersWith('00'))).toBe(true);
    expect(sampled({ OTEL_TRACES_SAMPLER: 'always_off' }, headersWith('01'))).toBe(false);
  });
});
