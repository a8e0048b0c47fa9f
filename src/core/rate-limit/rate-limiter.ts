// Requests and tokens per minute, per project and per key. A sliding-window
// counter (this minute's count plus the previous minute's weighted by how
// much of it still overlaps the window): O(1) memory per subject, no
// per-request timestamps, and the same arithmetic in memory and in Redis.

export const WINDOW_MS = 60_000;

export interface LimitSubject {
  /** `project:<id>` or `key:<id>`. */
  id: string;
  rpm: number | null;
  tpm: number | null;
}

export interface LimitState {
  limitRequests: number;
  remainingRequests: number;
  /** ms until a request slot frees up. */
  resetRequestsMs: number;
  limitTokens: number | null;
  remainingTokens: number | null;
  resetTokensMs: number | null;
}

export interface LimitDecision {
  allowed: boolean;
  /** Seconds to wait, when refused. */
  retryAfter: number;
  /** The tightest of the subjects' limits, for the x-ratelimit-* headers; undefined when none applies. */
  state: LimitState | undefined;
  /** Which limit refused the request. */
  refusedBy?: string;
}

export interface RateLimiter {
  /** Counts one request of `tokens` against every subject, or none if any refuses. */
  take(subjects: LimitSubject[], tokens: number, now?: number): Promise<LimitDecision>;
  close(): Promise<void>;
}

/** The weighted count of a sliding window from two fixed-window counters. */
export function slidingCount(current: number, previous: number, now: number): number {
  const elapsed = (now % WINDOW_MS) / WINDOW_MS;
  return current + previous * (1 - elapsed);
}

/** ms until the weighted count drops enough to admit `need` more, assuming no new traffic. */
export function msUntilFree(current: number, previous: number, limit: number, need: number, now: number): number {
  const intoWindow = now % WINDOW_MS;
  if (need > limit) return WINDOW_MS;
  if (current + need > limit) return WINDOW_MS - intoWindow + Math.ceil(((current + need - limit) / Math.max(current, 1)) * WINDOW_MS);
  if (previous === 0) return 0;
  // previous × (1 − t/W) + current + need ≤ limit  ⇒  t ≥ W × (1 − (limit − current − need)/previous)
  const t = WINDOW_MS * (1 - (limit - current - need) / previous);
  return Math.max(0, Math.ceil(t - intoWindow));
}

/** OpenAI's reset format: "1s", "6m0s", "250ms". */
export function formatReset(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

export function rateLimitHeaders(state: LimitState | undefined): Record<string, string> {
  if (!state) return {};
  const headers: Record<string, string> = {
    'x-ratelimit-limit-requests': String(state.limitRequests),
    'x-ratelimit-remaining-requests': String(Math.max(0, state.remainingRequests)),
    'x-ratelimit-reset-requests': formatReset(state.resetRequestsMs),
  };
  if (state.limitTokens !== null) {
    headers['x-ratelimit-limit-tokens'] = String(state.limitTokens);
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, state.remainingTokens ?? 0));
    headers['x-ratelimit-reset-tokens'] = formatReset(state.resetTokensMs ?? 0);
  }
  return headers;
}

export interface WindowCounts {
  requests: number;
  tokens: number;
  prevRequests: number;
  prevTokens: number;
}

export interface SubjectVerdict {
  state: LimitState;
  /** Set when this subject refuses the request: ms to wait and why. */
  refusal?: { waitMs: number; by: string };
}

/** One subject's limits against its window counts, the same in memory and in Redis. */
export function judge(subject: LimitSubject, c: WindowCounts, tokens: number, now: number): SubjectVerdict {
  const usedRequests = slidingCount(c.requests, c.prevRequests, now);
  const usedTokens = slidingCount(c.tokens, c.prevTokens, now);
  const rpm = subject.rpm ?? Number.MAX_SAFE_INTEGER;
  const state: LimitState = {
    limitRequests: rpm,
    remainingRequests: Math.floor(rpm - usedRequests - 1),
    resetRequestsMs: msUntilFree(c.requests, c.prevRequests, rpm, 1, now),
    limitTokens: subject.tpm,
    remainingTokens: subject.tpm === null ? null : Math.floor(subject.tpm - usedTokens - tokens),
    resetTokensMs: subject.tpm === null ? null : msUntilFree(c.tokens, c.prevTokens, subject.tpm, tokens, now),
  };
  if (subject.tpm !== null && usedTokens + tokens > subject.tpm) {
    return { state, refusal: { waitMs: state.resetTokensMs ?? 0, by: `${subject.id} tokens per minute` } };
  }
  if (usedRequests + 1 > rpm) return { state, refusal: { waitMs: state.resetRequestsMs, by: `${subject.id} requests per minute` } };
  return { state };
}

/** Combines the subjects' verdicts: the tightest state for the headers, the longest wait when refused. */
export function decide(verdicts: SubjectVerdict[]): LimitDecision {
  let tightest: LimitState | undefined;
  let waitMs = 0;
  let refusedBy: string | undefined;
  for (const v of verdicts) {
    if (!tightest || v.state.remainingRequests < tightest.remainingRequests) tightest = v.state;
    if (v.refusal && v.refusal.waitMs >= waitMs) {
      waitMs = v.refusal.waitMs;
      refusedBy = v.refusal.by;
    }
  }
  if (refusedBy === undefined) return { allowed: true, retryAfter: 0, state: tightest };
  return { allowed: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)), state: tightest, refusedBy };
}
