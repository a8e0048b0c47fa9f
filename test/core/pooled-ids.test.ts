import { describe, expect, it } from 'vitest';
import { isValidSpanId, isValidTraceId } from '@opentelemetry/api';
import { PooledIdGenerator } from '../../src/telemetry/pooled-ids.js';

describe('pooled trace and span ids', () => {
  it('are valid W3C ids, lowercase hex, and never repeat across many refills of the pool', () => {
    const ids = new PooledIdGenerator();
    const seen = new Set<string>();
    // Interleaved as a request takes them: a trace id, then span ids (the pool is 256 bytes: 32 span ids).
    for (let i = 0; i < 5_000; i++) {
      const traceId = ids.generateTraceId();
      const spanIds = [ids.generateSpanId(), ids.generateSpanId(), ids.generateSpanId(), ids.generateSpanId()];
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(isValidTraceId(traceId)).toBe(true);
      for (const spanId of spanIds) {
        expect(spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(isValidSpanId(spanId)).toBe(true);
      }
      for (const id of [traceId, ...spanIds]) {
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
    }
  });
});
