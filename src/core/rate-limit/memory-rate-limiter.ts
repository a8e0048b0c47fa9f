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

/**
 * One replica's limits, in memory. A plain Map, not an LRU: an evicted
 * counter would reset a busy subject's limit, and lru-cache allocates its
 * whole capacity up front (4 MB for 100,000 slots, resident for the life of
 * the process). Memory follows the subjects seen in the last two windows:
 * the first call in each new window drops the counters that can no longer
 * count (older than the previous window).
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #counters = new Map<string, Counter>();
  #sweptWindow = 0;

  /** Subjects whose counters are held (for tests and metrics). */
  get size(): number {
    return this.#counters.size;
  }

  #sweep(window: number): void {
    if (window <= this.#sweptWindow) return;
    this.#sweptWindow = window;
    for (const [id, c] of this.#counters) if (c.window < window - 1) this.#counters.delete(id);
  }

  async take(subjects: LimitSubject[], tokens: number, now = Date.now()): Promise<LimitDecision> {
    const window = Math.floor(now / WINDOW_MS);
    const limited = subjects.filter((s) => s.rpm !== null || s.tpm !== null);
    if (limited.length === 0) return { allowed: true, retryAfter: 0, state: undefined };
    this.#sweep(window);
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
