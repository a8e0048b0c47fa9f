import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../../src/providers/http/retry-after.js';

describe('retryAfterMs', () => {
  it('reads retry-after as seconds', () => {
    expect(retryAfterMs({ 'retry-after': '7' })).toBe(7000);
  });
  it('prefers OpenAI retry-after-ms', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '1' })).toBe(250);
  });
  it('reads an HTTP date relative to now', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, now)).toBe(30_000);
  });
  it('ignores garbage and absence', () => {
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBeUndefined();
    expect(retryAfterMs({})).toBeUndefined();
  });
});
