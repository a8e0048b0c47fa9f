import { Redis } from 'ioredis';
import { type Logger, silentLogger } from '../logger.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
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

/** A Redis that does not answer within this is treated as gone for the request. */
const COMMAND_TIMEOUT_MS = 1_000;

/**
 * Cluster-wide limits in Redis (REDIS_URL). While Redis cannot be reached
 * (down, restarting, not answering) each replica counts in its own memory,
 * so a limit of N a minute admits up to N per replica: requests keep being
 * served, never refused or held for Redis' sake. A warning is logged when
 * that starts and when Redis answers again; ioredis reconnects by itself.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #fallback = new MemoryRateLimiter();
  #degraded = false;
  /** Until the first connection: requests right after start wait for it (briefly) rather than count apart from it. */
  #firstReady: Promise<void> | undefined;

  constructor(
    url: string,
    private readonly logger: Logger = silentLogger,
  ) {
    // No offline queue and a command timeout: a request never waits on a
    // reconnecting or silent Redis, it is counted in memory at once.
    this.#redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS });
    this.#redis.defineCommand('gatewayRateTake', { lua: TAKE });
    // ioredis logs unhandled 'error' events to the console; the state change is logged here instead.
    this.#redis.on('error', (err: Error) => this.#degrade(err));
    this.#redis.on('ready', () => this.#recover());
    // Settled by the first connection or the first failure, not by a timer:
    // a start that blocks the event loop (migrations) would outlast a timer.
    this.#firstReady = new Promise<void>((resolve) => {
      this.#redis.once('ready', resolve);
      this.#redis.once('error', resolve);
    }).then(() => {
      this.#firstReady = undefined;
    });
  }

  /** True while limits are counted per replica because Redis is unreachable. */
  get degraded(): boolean {
    return this.#degraded;
  }

  #degrade(err: unknown): void {
    if (this.#degraded) return;
    this.#degraded = true;
    this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'Redis unreachable: rate limits are counted per replica until it answers again');
  }

  #recover(): void {
    if (!this.#degraded) return;
    this.#degraded = false;
    this.logger.warn({}, 'Redis reachable again: rate limits are cluster-wide again');
  }

  async take(subjects: LimitSubject[], tokens: number, now = Date.now()): Promise<LimitDecision> {
    const limited = subjects.filter((s) => s.rpm !== null || s.tpm !== null);
    if (limited.length === 0) return { allowed: true, retryAfter: 0, state: undefined };
    if (this.#firstReady) await waitAtMost(this.#firstReady, COMMAND_TIMEOUT_MS);
    // Not connected (the 'error' event has said so): counted here at once.
    if (this.#redis.status !== 'ready') return this.#fallback.take(limited, tokens, now);
    try {
      return await this.#takeInRedis(limited, tokens, now);
    } catch (err) {
      // A script or argument error is ours and stays an error; only a lost Redis falls back.
      if (!isUnreachable(err, this.#redis)) throw err;
      this.#degrade(err);
      return this.#fallback.take(limited, tokens, now);
    }
  }

  async #takeInRedis(limited: LimitSubject[], tokens: number, now: number): Promise<LimitDecision> {
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

/** The command failed because Redis went away or did not answer, not because Redis refused it. */
function isUnreachable(err: unknown, redis: Redis): boolean {
  if (redis.status !== 'ready') return true;
  const message = err instanceof Error ? err.message : '';
  return /Command timed out|Connection is closed|Stream isn't writeable|max retries per request|ECONNRESET|ECONNREFUSED|EPIPE/i.test(message);
}

async function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
