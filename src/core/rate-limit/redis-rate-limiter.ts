import { Redis } from 'ioredis';
import { decide, judge, type LimitDecision, type LimitSubject, type RateLimiter, WINDOW_MS } from './rate-limiter.js';

// Check and count every subject atomically on the Redis server, so limits
// hold across replicas. KEYS: per subject its current and previous window
// hash. ARGV: elapsed fraction of the window, tokens, then rpm/tpm pairs
// (-1 = none). Returns allowed (1/0) and each subject's counts before this request.
const TAKE = `
local elapsed = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local n = #KEYS / 2
local counts = {}
local allowed = 1
for i = 1, n do
  local cur = redis.call('HMGET', KEYS[2*i-1], 'r', 't')
  local prev = redis.call('HMGET', KEYS[2*i], 'r', 't')
  local cr, ct = tonumber(cur[1] or 0), tonumber(cur[2] or 0)
  local pr, pt = tonumber(prev[1] or 0), tonumber(prev[2] or 0)
  local rpm, tpm = tonumber(ARGV[1+2*i]), tonumber(ARGV[2+2*i])
  if rpm >= 0 and cr + pr * (1 - elapsed) + 1 > rpm then allowed = 0 end
  if tpm >= 0 and ct + pt * (1 - elapsed) + tokens > tpm then allowed = 0 end
  table.insert(counts, cr); table.insert(counts, ct); table.insert(counts, pr); table.insert(counts, pt)
end
if allowed == 1 then
  for i = 1, n do
    redis.call('HINCRBY', KEYS[2*i-1], 'r', 1)
    redis.call('HINCRBY', KEYS[2*i-1], 't', tokens)
    redis.call('PEXPIRE', KEYS[2*i-1], ${2 * WINDOW_MS})
  end
end
table.insert(counts, 1, allowed)
return counts
`;

type TakeCommand = (numKeys: number, ...args: Array<string | number>) => Promise<number[]>;

/** Cluster-wide limits in Redis (REDIS_URL). */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;

  constructor(url: string) {
    this.#redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
    this.#redis.defineCommand('gatewayRateTake', { lua: TAKE });
  }

  async take(subjects: LimitSubject[], tokens: number, now = Date.now()): Promise<LimitDecision> {
    const limited = subjects.filter((s) => s.rpm !== null || s.tpm !== null);
    if (limited.length === 0) return { allowed: true, retryAfter: 0, state: undefined };
    const window = Math.floor(now / WINDOW_MS);
    const keys = limited.flatMap((s) => [`gw:rl:${s.id}:${window}`, `gw:rl:${s.id}:${window - 1}`]);
    const args = limited.flatMap((s) => [s.rpm ?? -1, s.tpm ?? -1]);
    const take = (this.#redis as unknown as { gatewayRateTake: TakeCommand }).gatewayRateTake.bind(this.#redis);
    const [allowed, ...counts] = await take(keys.length, ...keys, (now % WINDOW_MS) / WINDOW_MS, tokens, ...args);
    const decision = decide(
      limited.map((subject, i) => {
        const [requests, tokensUsed, prevRequests, prevTokens] = counts.slice(i * 4, i * 4 + 4) as [number, number, number, number];
        return judge(subject, { requests, tokens: tokensUsed, prevRequests, prevTokens }, tokens, now);
      }),
    );
    // The script's verdict is authoritative (it saw the counts atomically); the headers come from the same counts.
    return allowed === 1 ? { ...decision, allowed: true, retryAfter: 0 } : { ...decision, allowed: false, retryAfter: Math.max(1, decision.retryAfter) };
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
