import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../../src/core/rate-limit/redis-rate-limiter.js';

// The Redis limiter against a real Redis (TEST_REDIS_URL, set by .ci/run).
// Explicit clocks put each request in a known window; every test uses
// subjects of its own, so runs sharing one Redis never see each other.
const redisUrl = process.env.TEST_REDIS_URL;
const W = 60_000;
const at = (window: number, intoMs = 0) => window * W + intoMs;

describe.skipIf(!redisUrl)('the Redis rate limiter', () => {
  let limiter: RedisRateLimiter;
  let redis: Redis;
  beforeAll(() => {
    limiter = new RedisRateLimiter(redisUrl!);
    redis = new Redis(redisUrl!);
  });
  afterAll(async () => {
    await limiter?.close();
    await redis?.quit();
  });
  const id = (kind: string) => `${kind}:rl-${randomBytes(6).toString('hex')}`;

  it('counts requests and tokens in the window’s hash, kept for two windows', async () => {
    const key = id('key');
    const first = await limiter.take([{ id: key, rpm: 5, tpm: 1000 }], 120, at(1000, 5_000));
    expect(first).toEqual({
      allowed: true,
      retryAfter: 0,
      state: { limitRequests: 5, remainingRequests: 4, resetRequestsMs: 0, limitTokens: 1000, remainingTokens: 880, resetTokensMs: 0 },
    });
    await limiter.take([{ id: key, rpm: 5, tpm: 1000 }], 30, at(1000, 6_000));
    expect(await redis.hgetall(`gw:rl:${key}:1000`)).toEqual({ r: '2', t: '150' });
    const ttl = await redis.pttl(`gw:rl:${key}:1000`);
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('admits up to the request limit and refuses the next without counting it', async () => {
    const key = id('key');
    const subjects = [{ id: key, rpm: 2, tpm: null }];
    expect((await limiter.take(subjects, 1, at(2000))).allowed).toBe(true);
    const second = await limiter.take(subjects, 1, at(2000, 1));
    expect(second).toMatchObject({ allowed: true, retryAfter: 0, state: { limitRequests: 2, remainingRequests: 0, limitTokens: null } });
    const refused = await limiter.take(subjects, 1, at(2000, 15_000));
    // 45 s to the window's end, then (2 + 1 − 2)/2 of the next: 30 s.
    expect(refused).toEqual({
      allowed: false,
      retryAfter: 75,
      refusedBy: `${key} requests per minute`,
      state: { limitRequests: 2, remainingRequests: -1, resetRequestsMs: 75_000, limitTokens: null, remainingTokens: null, resetTokensMs: null },
    });
    expect(await redis.hget(`gw:rl:${key}:2000`, 'r')).toBe('2');
  });

  it('admits a request that fills the token limit exactly, and refuses one token more', async () => {
    const key = id('key');
    const subjects = [{ id: key, rpm: null, tpm: 100 }];
    expect((await limiter.take(subjects, 60, at(3000))).allowed).toBe(true);
    expect((await limiter.take(subjects, 41, at(3000, 1))).allowed).toBe(false);
    expect(await limiter.take(subjects, 40, at(3000, 2))).toMatchObject({ allowed: true, state: { remainingTokens: 0 } });
    expect(await redis.hgetall(`gw:rl:${key}:3000`)).toEqual({ r: '2', t: '100' });
  });

  it('weights the previous window by its overlap', async () => {
    const key = id('key');
    const subjects = [{ id: key, rpm: 4, tpm: 400 }];
    for (let i = 0; i < 4; i++) await limiter.take(subjects, 100, at(4000, 59_000));
    // 25 % into the next window 3 of the 4 (and 300 of the 400 tokens) still count.
    expect((await limiter.take(subjects, 100, at(4001, 15_000))).allowed).toBe(true);
    expect((await limiter.take(subjects, 1, at(4001, 15_001))).allowed).toBe(false);
    // Half way in, 2 of them: one request of 0 tokens fits.
    expect(await limiter.take([{ id: key, rpm: 4, tpm: null }], 0, at(4001, 30_000))).toMatchObject({ allowed: true, state: { remainingRequests: 0 } });
  });

  it('refuses when any subject is over and counts none of them; names the longest wait', async () => {
    const project = id('project');
    const key = id('key');
    await limiter.take([{ id: project, rpm: 1, tpm: null }], 1, at(5000));
    const refused = await limiter.take(
      [
        { id: project, rpm: 1, tpm: null },
        { id: key, rpm: 10, tpm: 5 },
      ],
      8,
      at(5000, 30_000),
    );
    // The project waits 30 s + 60 s; the key's 8 tokens exceed its 5 at any time: a whole window.
    expect(refused).toMatchObject({ allowed: false, retryAfter: 90, refusedBy: `${project} requests per minute` });
    expect(await redis.exists(`gw:rl:${key}:5000`)).toBe(0);
    expect(await redis.hget(`gw:rl:${project}:5000`, 'r')).toBe('1');
  });

  it('asks nothing of Redis for subjects without limits', async () => {
    const key = id('key');
    expect(await limiter.take([{ id: key, rpm: null, tpm: null }], 5, at(6000))).toEqual({ allowed: true, retryAfter: 0, state: undefined });
    expect(await redis.exists(`gw:rl:${key}:6000`)).toBe(0);
  });

  it('counts a subject with only a token limit next to an unlimited one', async () => {
    const free = id('project');
    const key = id('key');
    const subjects = [
      { id: free, rpm: null, tpm: null },
      { id: key, rpm: null, tpm: 50 },
    ];
    expect(await limiter.take(subjects, 20, at(7000))).toMatchObject({ allowed: true, state: { remainingTokens: 30 } });
    expect(await redis.exists(`gw:rl:${free}:7000`)).toBe(0);
    expect(await redis.hgetall(`gw:rl:${key}:7000`)).toEqual({ r: '1', t: '20' });
  });

  it('takes the clock from now when none is given', async () => {
    const key = id('key');
    const before = Math.floor(Date.now() / W);
    expect((await limiter.take([{ id: key, rpm: 3, tpm: null }], 1)).allowed).toBe(true);
    const after = Math.floor(Date.now() / W);
    const counted = await Promise.all([before, after].map((w) => redis.hget(`gw:rl:${key}:${w}`, 'r')));
    expect(counted).toContain('1');
  });
});
