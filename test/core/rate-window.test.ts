import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/core/rate-limit/memory-rate-limiter.js';
import {
  decide,
  formatReset,
  judge,
  type LimitState,
  msUntilFree,
  rateLimitHeaders,
  slidingCount,
  type SubjectVerdict,
  WINDOW_MS,
} from '../../src/core/rate-limit/rate-limiter.js';

// Expected figures are worked out by hand from the sliding-window rule
// (this minute's count + the previous minute's × the share of it still in the window).
const W = 60_000;
const at = (window: number, intoMs = 0) => window * W + intoMs;
const counts = (requests: number, tokens: number, prevRequests = 0, prevTokens = 0) => ({ requests, tokens, prevRequests, prevTokens });

describe('the sliding window arithmetic', () => {
  it('is a minute long', () => {
    expect(WINDOW_MS).toBe(60_000);
  });

  it('weights the previous minute by the share of it still inside the window', () => {
    // 15 s in: 3/4 of the previous minute still counts.
    expect(slidingCount(2, 4, at(7, 15_000))).toBe(5);
    // 45 s in: a quarter.
    expect(slidingCount(2, 4, at(7, 45_000))).toBe(3);
    // At the boundary all of it.
    expect(slidingCount(2, 4, at(7))).toBe(6);
  });

  it('waits a whole window for a request larger than the limit', () => {
    expect(msUntilFree(0, 0, 5, 6, at(3, 1_000))).toBe(60_000);
  });

  it('admits at once a request that exactly fills an empty limit', () => {
    expect(msUntilFree(0, 0, 5, 5, at(3, 1_000))).toBe(0);
    expect(msUntilFree(2, 0, 3, 1, at(3, 15_000))).toBe(0);
  });

  it('when this minute alone is over, waits for its end and then for its share of the next', () => {
    // 45 s left in this window, then (3 + 1 − 3)/3 of the next one: 20 s.
    expect(msUntilFree(3, 0, 3, 1, at(3, 15_000))).toBe(65_000);
    // (5 + 2 − 4)/5 of a window: 36 s, after the 50 s left.
    expect(msUntilFree(5, 0, 4, 2, at(3, 10_000))).toBe(86_000);
  });

  it('when the previous minute still weighs, waits until enough of it has slid out', () => {
    // 1 + 4 × (1 − t/W) + 1 ≤ 4 from t = 30 s; 15 s into the window that is 15 s away.
    expect(msUntilFree(1, 4, 4, 1, at(3, 15_000))).toBe(15_000);
    // Already past it 45 s in.
    expect(msUntilFree(1, 4, 4, 1, at(3, 45_000))).toBe(0);
    // 7 × (1 − t/W) + 1 ≤ 7 from t = W/7 = 8571.43 ms: rounded up, never early.
    expect(msUntilFree(0, 7, 7, 1, at(3))).toBe(8_572);
  });
});

describe('reset times in OpenAI’s format', () => {
  it('writes under a second in whole milliseconds, never negative', () => {
    expect(formatReset(0)).toBe('0ms');
    expect(formatReset(999)).toBe('999ms');
    expect(formatReset(12.4)).toBe('12ms');
    expect(formatReset(-5)).toBe('0ms');
  });

  it('writes a second or more in whole seconds rounded up, and minutes from 60 s', () => {
    expect(formatReset(1_000)).toBe('1s');
    expect(formatReset(1_001)).toBe('2s');
    expect(formatReset(59_000)).toBe('59s');
    expect(formatReset(59_001)).toBe('1m0s');
    expect(formatReset(60_000)).toBe('1m0s');
    expect(formatReset(61_500)).toBe('1m2s');
    expect(formatReset(125_000)).toBe('2m5s');
  });
});

describe('x-ratelimit headers', () => {
  const state = (s: Partial<LimitState> = {}): LimitState => ({
    limitRequests: 10,
    remainingRequests: 4,
    resetRequestsMs: 1_500,
    limitTokens: null,
    remainingTokens: null,
    resetTokensMs: null,
    ...s,
  });

  it('are absent when no limit applies', () => {
    expect(rateLimitHeaders(undefined)).toEqual({});
  });

  it('carry only the request headers when there is no token limit', () => {
    expect(rateLimitHeaders(state())).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '4',
      'x-ratelimit-reset-requests': '2s',
    });
  });

  it('carry the token headers too, and never show a negative remainder', () => {
    expect(rateLimitHeaders(state({ remainingRequests: -2, limitTokens: 1000, remainingTokens: -30, resetTokensMs: 250 }))).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '2s',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '250ms',
    });
  });

  it('show the tokens left as they are', () => {
    expect(rateLimitHeaders(state({ limitTokens: 1000, remainingTokens: 640, resetTokensMs: 0 }))['x-ratelimit-remaining-tokens']).toBe('640');
  });

  it('read a missing token remainder or reset as zero', () => {
    const headers = rateLimitHeaders(state({ limitTokens: 1000, remainingTokens: null, resetTokensMs: null }));
    expect(headers['x-ratelimit-remaining-tokens']).toBe('0');
    expect(headers['x-ratelimit-reset-tokens']).toBe('0ms');
  });
});

describe('one subject judged against its counts', () => {
  it('admits within both limits and reports what is left after this request', () => {
    const verdict = judge({ id: 'key:k', rpm: 10, tpm: 100 }, counts(4, 30), 20, at(9));
    expect(verdict).toEqual({
      state: { limitRequests: 10, remainingRequests: 5, resetRequestsMs: 0, limitTokens: 100, remainingTokens: 50, resetTokensMs: 0 },
    });
  });

  it('counts the previous minute’s share in what is left, rounded down', () => {
    // 15 s in: 2 + 4 × 0.75 = 5 requests and 10 + 30 × 0.75 = 32.5 tokens used.
    const verdict = judge({ id: 'key:k', rpm: 10, tpm: 100 }, counts(2, 10, 4, 30), 7, at(9, 15_000));
    expect(verdict.state.remainingRequests).toBe(4);
    expect(verdict.state.remainingTokens).toBe(60);
    expect(verdict.refusal).toBeUndefined();
  });

  it('admits a request that fills the token limit exactly, refuses one token more', () => {
    expect(judge({ id: 'key:k', rpm: null, tpm: 100 }, counts(0, 30), 70, at(9)).refusal).toBeUndefined();
    const over = judge({ id: 'key:k', rpm: null, tpm: 100 }, counts(0, 30), 71, at(9, 15_000));
    // 45 s to the window's end, then (30 + 71 − 100)/30 of the next: 2 s.
    expect(over.refusal).toEqual({ waitMs: 47_000, by: 'key:k tokens per minute' });
    expect(over.state.remainingTokens).toBe(-1);
  });

  it('admits the request that reaches the request limit, refuses the one after', () => {
    expect(judge({ id: 'project:p', rpm: 3, tpm: null }, counts(2, 0), 1, at(9)).refusal).toBeUndefined();
    const over = judge({ id: 'project:p', rpm: 3, tpm: null }, counts(3, 0), 1, at(9, 15_000));
    expect(over.refusal).toEqual({ waitMs: 65_000, by: 'project:p requests per minute' });
    expect(over.state).toMatchObject({ remainingRequests: -1, limitTokens: null, remainingTokens: null, resetTokensMs: null });
  });

  it('names the token limit when both are over', () => {
    const verdict = judge({ id: 'key:k', rpm: 1, tpm: 10 }, counts(1, 10), 5, at(9));
    expect(verdict.refusal?.by).toBe('key:k tokens per minute');
  });

  it('has no request limit when none is set', () => {
    const verdict = judge({ id: 'key:k', rpm: null, tpm: 100 }, counts(1_000_000, 0), 1, at(9));
    expect(verdict.refusal).toBeUndefined();
    expect(verdict.state.limitRequests).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('the subjects’ verdicts combined', () => {
  const state = (remainingRequests: number): LimitState => ({
    limitRequests: 10,
    remainingRequests,
    resetRequestsMs: 0,
    limitTokens: null,
    remainingTokens: null,
    resetTokensMs: null,
  });
  const verdict = (remaining: number, refusal?: { waitMs: number; by: string }): SubjectVerdict => (refusal ? { state: state(remaining), refusal } : { state: state(remaining) });

  it('admits when none refuses and shows the tightest state', () => {
    expect(decide([verdict(7), verdict(2), verdict(5)])).toEqual({ allowed: true, retryAfter: 0, state: state(2) });
    expect(decide([])).toEqual({ allowed: true, retryAfter: 0, state: undefined });
  });

  it('refuses with the longest wait, in whole seconds rounded up, whichever comes first', () => {
    const a = verdict(3, { waitMs: 3_000, by: 'a' });
    const b = verdict(1, { waitMs: 4_200, by: 'b' });
    expect(decide([a, b])).toEqual({ allowed: false, retryAfter: 5, state: state(1), refusedBy: 'b' });
    expect(decide([b, a])).toEqual({ allowed: false, retryAfter: 5, state: state(1), refusedBy: 'b' });
  });

  it('refuses even when the wait is zero, asking for at least a second', () => {
    expect(decide([verdict(4), verdict(0, { waitMs: 0, by: 'z' })])).toEqual({ allowed: false, retryAfter: 1, state: state(0), refusedBy: 'z' });
  });

  it('on equal waits names the last subject that refused', () => {
    const d = decide([verdict(3, { waitMs: 2_000, by: 'project' }), verdict(3, { waitMs: 2_000, by: 'key' })]);
    expect(d).toMatchObject({ retryAfter: 2, refusedBy: 'key' });
  });
});

describe('the in-memory limiter', () => {
  it('leaves subjects without any limit uncounted and without headers', async () => {
    const limiter = new MemoryRateLimiter();
    expect(await limiter.take([{ id: 'key:free', rpm: null, tpm: null }], 10, at(50))).toEqual({ allowed: true, retryAfter: 0, state: undefined });
    expect(limiter.size).toBe(0);
  });

  it('counts a subject with only a token limit, and only the limited subjects', async () => {
    const limiter = new MemoryRateLimiter();
    const subjects = [
      { id: 'project:p', rpm: null, tpm: null },
      { id: 'key:k', rpm: null, tpm: 100 },
    ];
    const first = await limiter.take(subjects, 60, at(51));
    expect(first.allowed).toBe(true);
    expect(first.state?.remainingTokens).toBe(40);
    expect(limiter.size).toBe(1);
    const second = await limiter.take(subjects, 41, at(51, 1));
    expect(second).toMatchObject({ allowed: false, refusedBy: 'key:k tokens per minute' });
    const third = await limiter.take(subjects, 40, at(51, 2));
    expect(third).toMatchObject({ allowed: true, state: { remainingTokens: 0 } });
  });

  it('counts every subject of an admitted request once, with its tokens', async () => {
    const limiter = new MemoryRateLimiter();
    const subjects = [
      { id: 'project:p', rpm: 10, tpm: 1000 },
      { id: 'key:k', rpm: 5, tpm: 1000 },
    ];
    await limiter.take(subjects, 100, at(52));
    const second = await limiter.take(subjects, 100, at(52, 1));
    // The key is the tighter: 5 − 1 counted − this one.
    expect(second.state).toMatchObject({ limitRequests: 5, remainingRequests: 3, remainingTokens: 800 });
    const project = await limiter.take([{ id: 'project:p', rpm: 10, tpm: 1000 }], 0, at(52, 2));
    expect(project.state).toMatchObject({ remainingRequests: 7, remainingTokens: 800 });
  });

  it('carries the previous minute into the next one, and forgets it a minute later', async () => {
    const limiter = new MemoryRateLimiter();
    const key = [{ id: 'key:k', rpm: 3, tpm: null }];
    for (let i = 0; i < 3; i++) expect((await limiter.take(key, 1, at(60, 59_000))).allowed).toBe(true);
    // The next window, at its start: all 3 of the previous still count.
    expect((await limiter.take(key, 1, at(61))).allowed).toBe(false);
    // Two windows on: nothing of them is left.
    const later = await limiter.take(key, 1, at(62, 1));
    expect(later).toMatchObject({ allowed: true, state: { remainingRequests: 2 } });
  });

  it('does not carry a later window as the previous one when the clock steps back', async () => {
    const limiter = new MemoryRateLimiter();
    const key = [{ id: 'key:k', rpm: 3, tpm: null }];
    for (let i = 0; i < 3; i++) await limiter.take(key, 1, at(71));
    // Window 70 read after 71: not the minute before it, so none of the 3 count.
    expect(await limiter.take(key, 1, at(70))).toMatchObject({ allowed: true, state: { remainingRequests: 2 } });
  });

  it('sweeps once per window: a counter made since by an older clock stays until the next window', async () => {
    const limiter = new MemoryRateLimiter();
    await limiter.take([{ id: 'a', rpm: 5, tpm: null }], 1, at(80));
    await limiter.take([{ id: 'b', rpm: 5, tpm: null }], 1, at(82));
    expect(limiter.size).toBe(1);
    await limiter.take([{ id: 'c', rpm: 5, tpm: null }], 1, at(80, 5));
    await limiter.take([{ id: 'd', rpm: 5, tpm: null }], 1, at(82, 5));
    expect(limiter.size).toBe(3);
    await limiter.take([{ id: 'e', rpm: 5, tpm: null }], 1, at(83));
    // Window 83 keeps what was counted in 82 and 83: b, d and e.
    expect(limiter.size).toBe(3);
  });

  it('touches no counter for a request without limits, not even to sweep', async () => {
    const limiter = new MemoryRateLimiter();
    await limiter.take([{ id: 'a', rpm: 5, tpm: null }], 1, at(90));
    await limiter.take([{ id: 'free', rpm: null, tpm: null }], 1, at(92));
    expect(limiter.size).toBe(1);
  });

  it('closes without error', async () => {
    await expect(new MemoryRateLimiter().close()).resolves.toBeUndefined();
  });
});
