import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/core/errors.js';
import type { AuthenticatedKey } from '../../src/core/keys/key-store.js';
import { admitRate } from '../../src/core/rate-limit/admit.js';
import type { LimitSubject, RateLimiter } from '../../src/core/rate-limit/rate-limiter.js';
import { MemoryRateLimiter } from '../../src/core/rate-limit/memory-rate-limiter.js';

const key = (limits: { rpm?: number; tpm?: number; projectRpm?: number; projectTpm?: number }): AuthenticatedKey => ({
  id: 'key_a',
  projectId: 'prj_a',
  mode: 'live',
  expiresAt: null,
  revokedAt: null,
  rpmLimit: limits.rpm ?? null,
  tpmLimit: limits.tpm ?? null,
  hasSpendLimit: false,
  project: { status: 'active', rpmLimit: limits.projectRpm ?? null, tpmLimit: limits.projectTpm ?? null, currency: 'USD' },
});

describe('admitting a request against its project’s and key’s limits', () => {
  it('asks the limiter about the project and the key, with their limits and the request’s tokens', async () => {
    const asked: Array<{ subjects: LimitSubject[]; tokens: number }> = [];
    const limiter: RateLimiter = {
      async take(subjects, tokens) {
        asked.push({ subjects, tokens });
        return { allowed: true, retryAfter: 0, state: undefined };
      },
      async close() {},
    };
    expect(await admitRate(limiter, key({ rpm: 5, tpm: 500, projectRpm: 50, projectTpm: 5000 }), 42)).toEqual({});
    expect(asked).toEqual([
      {
        subjects: [
          { id: 'project:prj_a', rpm: 50, tpm: 5000 },
          { id: 'key:key_a', rpm: 5, tpm: 500 },
        ],
        tokens: 42,
      },
    ]);
  });

  it('returns the x-ratelimit headers of the tightest limit', async () => {
    const headers = await admitRate(new MemoryRateLimiter(), key({ rpm: 2, projectRpm: 10 }), 1);
    expect(headers).toMatchObject({ 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '1' });
  });

  it('refuses with a 429 naming the limit, its wait and the headers', async () => {
    const limiter = new MemoryRateLimiter();
    const k = key({ projectRpm: 1 });
    await admitRate(limiter, k, 1);
    const err = await admitRate(limiter, k, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    const e = err as GatewayError;
    expect(e).toMatchObject({ kind: 'rate_limited', status: 429, type: 'rate_limit_error' });
    expect(e.message).toMatch(/^Rate limit reached \(project:prj_a requests per minute\)\. Retry after \d+s\.$/);
    expect(e.retryAfter).toBeGreaterThanOrEqual(1);
    expect(e.message).toContain(`Retry after ${e.retryAfter}s.`);
    expect(e.headers).toMatchObject({ 'x-ratelimit-limit-requests': '1', 'x-ratelimit-remaining-requests': '0' });
  });

  it('names the per-minute limit when the limiter does not say which refused', async () => {
    const limiter: RateLimiter = {
      async take() {
        return { allowed: false, retryAfter: 7, state: undefined };
      },
      async close() {},
    };
    const err = (await admitRate(limiter, key({ rpm: 1 }), 1).catch((e: unknown) => e)) as GatewayError;
    expect(err.message).toBe('Rate limit reached (per-minute limit). Retry after 7s.');
    expect(err.retryAfter).toBe(7);
    expect(err.headers).toEqual({});
  });
});
