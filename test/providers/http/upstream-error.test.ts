import { describe, expect, it } from 'vitest';
import { errorClassForStatus } from '../../../src/providers/http/classify-status.js';
import { safeUpstreamMessage } from '../../../src/providers/http/safe-upstream-message.js';
import { upstreamError } from '../../../src/providers/http/upstream-error.js';

describe('errorClassForStatus', () => {
  it.each([
    [401, 'key_fatal'],
    [402, 'key_fatal'],
    [403, 'key_fatal'],
    [408, 'retryable'],
    [409, 'retryable'],
    [429, 'retryable'],
    [500, 'retryable'],
    [503, 'retryable'],
    [529, 'retryable'],
    [400, 'client'],
    [404, 'client'],
    [413, 'client'],
    [422, 'client'],
  ])('%i is %s', (status, errorClass) => {
    expect(errorClassForStatus(status)).toBe(errorClass);
  });
});

describe('safeUpstreamMessage', () => {
  it('removes the key we sent and anything key-shaped', () => {
    const key = 'sk-proj-abcdefghijklmnop';
    expect(safeUpstreamMessage(`Incorrect API key provided: ${key}.`, key)).toBe('Incorrect API key provided: [redacted].');
    expect(safeUpstreamMessage('Incorrect API key provided: sk-abc12****wxyz.', 'other')).not.toContain('sk-abc12');
    expect(safeUpstreamMessage('API key AIzaSyD-1234567890abcdefg not valid', '')).not.toContain('AIza');
  });
  it('bounds the length', () => {
    expect(safeUpstreamMessage('x'.repeat(5000), '').length).toBeLessThanOrEqual(501);
  });
});

describe('upstreamError', () => {
  it('gives client errors the upstream status and a safe message', () => {
    const err = upstreamError({
      provider: 'openai',
      status: 404,
      headers: {},
      details: { message: 'The model `gpt-9` does not exist' },
      apiKey: 'sk-secret-key-123',
    });
    expect(err.errorClass).toBe('client');
    expect(err.clientStatus).toBe(404);
    expect(err.upstreamStatus).toBe(404);
    expect(err.message).toBe('openai rejected the request (404): The model `gpt-9` does not exist');
  });
  it('takes retry-after from the headers for 429', () => {
    const err = upstreamError({ provider: 'x', status: 429, headers: { 'retry-after': '3' }, details: {}, apiKey: 'k' });
    expect(err.errorClass).toBe('retryable');
    expect(err.retryAfterMs).toBe(3000);
    expect(err.clientStatus).toBeUndefined();
  });
  it('lets the provider override the class', () => {
    const err = upstreamError({ provider: 'gemini', status: 400, headers: {}, details: { errorClass: 'key_fatal' }, apiKey: 'k' });
    expect(err.errorClass).toBe('key_fatal');
  });
});
