import { LRUCache } from 'lru-cache';
import {
  type LimitDecision,
  type LimitState,
  type LimitSubject,
  msUntilFree,
  type RateLimiter,
  slidingCount,
  WINDOW_MS,
} from './rate-limiter.js';

interface Counter {
  window: number;
  requests: number;
  tokens: number;
  prevRequests: number;
  prevTokens: number;
}

function roll(c: Counter, window: number): void {
  if (c.window === window) return;
  const adjacent = c.window === window - 1;
  c.prevRequests = adjacent ? c.requests : 0;
  c.prevTokens = adjacent ? c.tokens : 0;
  c.requests = 0;
  c.tokens = 0;
  c.window = window;
}

/** One replica's limits, in memory. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #counters = new LRUCache<string, Counter>({ max: 100_000, ttl: 2 * WINDOW_MS });

  async take(subjects: LimitSubject[], tokens: number, now = Date.now()): Promise<LimitDecision> {
    const window = Math.floor(now / WINDOW_MS);
    const limited = subjects.filter((s) => s.rpm !== null || s.tpm !== null);
    if (limited.length === 0) return { allowed: true, retryAfter: 0, state: undefined };
    const counters = limited.map((s) => {
      let c = this.#counters.get(s.id);
      if (!c) this.#counters.set(s.id, (c = { window, requests: 0, tokens: 0, prevRequests: 0, prevTokens: 0 }));
      roll(c, window);
      return c;
    });
    let tightest: LimitState | undefined;
    let refusal: { wait: number; by: string } | undefined;
    limited.forEach((s, i) => {
      const c = counters[i]!;
      const usedRequests = slidingCount(c.requests, c.prevRequests, now);
      const usedTokens = slidingCount(c.tokens, c.prevTokens, now);
      const rpm = s.rpm ?? Number.MAX_SAFE_INTEGER;
      const state: LimitState = {
        limitRequests: rpm,
        remainingRequests: Math.floor(rpm - usedRequests - 1),
        resetRequestsMs: msUntilFree(c.requests, c.prevRequests, rpm, 1, now),
        limitTokens: s.tpm,
        remainingTokens: s.tpm === null ? null : Math.floor(s.tpm - usedTokens - tokens),
        resetTokensMs: s.tpm === null ? null : msUntilFree(c.tokens, c.prevTokens, s.tpm, tokens, now),
      };
      if (usedRequests + 1 > rpm) refusal = { wait: Math.max(refusal?.wait ?? 0, state.resetRequestsMs), by: `${s.id} requests per minute` };
      if (s.tpm !== null && usedTokens + tokens > s.tpm) refusal = { wait: Math.max(refusal?.wait ?? 0, state.resetTokensMs ?? 0), by: `${s.id} tokens per minute` };
      if (!tightest || state.remainingRequests < tightest.remainingRequests) tightest = state;
    });
    if (refusal) {
      return { allowed: false, retryAfter: Math.max(1, Math.ceil(refusal.wait / 1000)), state: tightest, refusedBy: refusal.by };
    }
    for (const c of counters) {
      c.requests += 1;
      c.tokens += tokens;
    }
    return { allowed: true, retryAfter: 0, state: tightest };
  }

  async close(): Promise<void> {}
}
