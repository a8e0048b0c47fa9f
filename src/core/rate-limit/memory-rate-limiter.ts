import { LRUCache } from 'lru-cache';
import { decide, judge, type LimitDecision, type LimitSubject, type RateLimiter, WINDOW_MS } from './rate-limiter.js';

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
    const decision = decide(limited.map((subject, i) => judge(subject, counters[i]!, tokens, now)));
    if (!decision.allowed) return decision;
    for (const c of counters) {
      c.requests += 1;
      c.tokens += tokens;
    }
    return decision;
  }

  async close(): Promise<void> {}
}
