import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/core/rate-limit/memory-rate-limiter.js';
import { formatReset, WINDOW_MS } from '../../src/core/rate-limit/rate-limiter.js';
import { RedisRateLimiter } from '../../src/core/rate-limit/redis-rate-limiter.js';

const redisUrl = process.env.TEST_REDIS_URL;
const subject = (id: string, rpm: number | null, tpm: number | null = null) => ({ id, rpm, tpm });

describe('sliding-window rate limiter', () => {
  it('admits up to the limit in a window, then refuses with a wait', async () => {
    const limiter = new MemoryRateLimiter();
    const t0 = 10 * WINDOW_MS;
    for (let i = 0; i < 3; i++) expect((await limiter.take([subject('k', 3)], 1, t0 + i)).allowed).toBe(true);
    const refused = await limiter.take([subject('k', 3)], 1, t0 + 10);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfter).toBeGreaterThan(0);
  });

  it("weights the previous window by its overlap, so a burst at a window's end still counts", async () => {
    const limiter = new MemoryRateLimiter();
    const t0 = 20 * WINDOW_MS;
    for (let i = 0; i < 4; i++) await limiter.take([subject('k', 4)], 1, t0 + WINDOW_MS - 10);
    // 25% into the next window, 75% of the previous 4 still count: 3 + 1 ≤ 4, a fifth is refused.
    expect((await limiter.take([subject('k', 4)], 1, t0 + WINDOW_MS * 1.25)).allowed).toBe(true);
    expect((await limiter.take([subject('k', 4)], 1, t0 + WINDOW_MS * 1.25)).allowed).toBe(false);
  });

  it('refuses when any subject is over and then counts none of them', async () => {
    const limiter = new MemoryRateLimiter();
    const now = 30 * WINDOW_MS;
    await limiter.take([subject('project', 1)], 1, now);
    expect((await limiter.take([subject('project', 1), subject('key', 10)], 1, now)).allowed).toBe(false);
    const key = await limiter.take([subject('key', 10)], 1, now);
    expect(key.state?.remainingRequests).toBe(9);
  });

  it('keeps every busy counter and drops those idle for two windows', async () => {
    const limiter = new MemoryRateLimiter();
    const t0 = 40 * WINDOW_MS;
    await limiter.take([subject('busy', 2)], 1, t0);
    for (let i = 0; i < 5000; i++) await limiter.take([subject(`idle-${i}`, 10)], 1, t0 + 1);
    expect(limiter.size).toBe(5001);
    // Many other subjects did not push the busy one out: its second request is its last.
    expect((await limiter.take([subject('busy', 2)], 1, t0 + 2)).allowed).toBe(true);
    expect((await limiter.take([subject('busy', 2)], 1, t0 + 3)).allowed).toBe(false);
    // Next window: last window's counters still weigh in, so nothing is dropped yet.
    await limiter.take([subject('busy', 100)], 1, t0 + WINDOW_MS);
    expect(limiter.size).toBe(5001);
    // Two windows on, only the subject seen in the previous window is left.
    await limiter.take([subject('other', 100)], 1, t0 + 2 * WINDOW_MS);
    expect(limiter.size).toBe(2);
    expect((await limiter.take([subject('idle-7', 1)], 1, t0 + 2 * WINDOW_MS)).allowed).toBe(true);
  });

  it('formats reset times like OpenAI', () => {
    expect(formatReset(250)).toBe('250ms');
    expect(formatReset(1200)).toBe('2s');
    expect(formatReset(360_000)).toBe('6m0s');
  });

  it.skipIf(!redisUrl)('holds one limit across two replicas through Redis', async () => {
    const a = new RedisRateLimiter(redisUrl!);
    const b = new RedisRateLimiter(redisUrl!);
    try {
      const id = `key:test-${Math.random().toString(36).slice(2)}`;
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).take([subject(id, 4)], 1)));
      expect(results.filter((r) => r.allowed)).toHaveLength(4);
      expect(results.filter((r) => !r.allowed).every((r) => r.retryAfter >= 1)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
