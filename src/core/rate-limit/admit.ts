import { GatewayError } from '../errors.js';
import type { AuthenticatedKey } from '../keys/key-store.js';
import { type RateLimiter, rateLimitHeaders } from './rate-limiter.js';

/**
 * Counts a request against its project's and key's per-minute limits. Returns
 * the x-ratelimit-* headers for the response, or throws a 429 carrying them.
 */
export async function admitRate(limiter: RateLimiter, key: AuthenticatedKey, tokens: number): Promise<Record<string, string>> {
  const decision = await limiter.take(
    [
      { id: `project:${key.projectId}`, rpm: key.project.rpmLimit, tpm: key.project.tpmLimit },
      { id: `key:${key.id}`, rpm: key.rpmLimit, tpm: key.tpmLimit },
    ],
    tokens,
  );
  const headers = rateLimitHeaders(decision.state);
  if (!decision.allowed) {
    throw new GatewayError('rate_limited', `Rate limit reached (${decision.refusedBy ?? 'per-minute limit'}). Retry after ${decision.retryAfter}s.`, {
      retryAfter: decision.retryAfter,
      headers,
    });
  }
  return headers;
}
