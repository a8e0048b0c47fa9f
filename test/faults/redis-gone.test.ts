// Redis gone under a running gateway: a redis-server of the test's own
// (private-redis.ts) is killed and started again. Runs where CI runs with
// Redis (TEST_REDIS_URL set) and redis-server is installed.
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisRateLimiter } from '../../src/core/rate-limit/redis-rate-limiter.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { hasRedisServer, type PrivateRedis, startPrivateRedis } from './private-redis.js';

const enabled = !!process.env.TEST_REDIS_URL && hasRedisServer;

/** The gateway's log lines as they are written, and a wait for one with a given message. */
function logCapture() {
  const lines: Array<{ msg: string }> = [];
  const waiters: Array<{ msg: string; from: number; resolve(): void }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(text) as { msg: string });
      for (const w of [...waiters]) {
        if (lines.slice(w.from).some((l) => l.msg.startsWith(w.msg))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      done();
    },
  });
  return {
    logger: pino({ level: 'warn' }, stream),
    lines,
    /** Resolves once a line starting with `msg` is written after this call. */
    next(msg: string): Promise<void> {
      return new Promise((resolve) => waiters.push({ msg, from: lines.length, resolve }));
    },
  };
}

describe.skipIf(!enabled)('Redis gone under a running gateway', () => {
  let redis: PrivateRedis;
  let gw: TestGateway;
  let probe: Redis;
  const log = logCapture();
  beforeAll(async () => {
    redis = await startPrivateRedis();
    gw = await startGateway({ env: { REDIS_URL: redis.url }, logger: log.logger });
    probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    // A start that blocked the event loop past the limiter's command timeout
    // (PGlite's migrations run in this process) falls back at once; wait for Redis.
    if ((gw.gateway.rateLimiter as RedisRateLimiter).degraded) await log.next('Redis reachable again');
  });
  afterAll(async () => {
    probe?.disconnect();
    await gw?.close();
    await redis?.destroy();
  });

  /** Four calls on a fresh key limited to 3 a minute: their statuses and the slowest call's time. */
  async function fourCalls(): Promise<{ statuses: number[]; slowestMs: number; keyId: string }> {
    const { secret, keyId } = await gw.project({ rpmLimit: 3 });
    const client = gw.client(secret, { timeout: 10_000 });
    const statuses: number[] = [];
    let slowestMs = 0;
    for (let i = 0; i < 4; i++) {
      const started = Date.now();
      try {
        await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
        statuses.push(200);
      } catch (e) {
        statuses.push(e instanceof OpenAI.APIError ? (e.status ?? 0) : 0);
      }
      slowestMs = Math.max(slowestMs, Date.now() - started);
    }
    return { statuses, slowestMs, keyId };
  }

  const countedInRedis = async (keyId: string) => {
    if (probe.status !== 'ready') await probe.connect();
    return (await probe.keys(`gw:rl:key:${keyId}:*`)).length > 0;
  };

  it('counts limits in memory while Redis is gone, says so, and goes back to Redis when it returns', async () => {
    const before = await fourCalls();
    expect(before.statuses).toEqual([200, 200, 200, 429]);
    expect(await countedInRedis(before.keyId)).toBe(true);
    probe.disconnect();

    const gone = log.next('Redis unreachable');
    const killedAt = Date.now();
    await redis.kill();
    await gone;
    const during = await fourCalls();
    // Served and limited by this replica's memory: never a 500, never a wait on Redis.
    expect(during.statuses).toEqual([200, 200, 200, 429]);
    expect(during.slowestMs).toBeLessThan(2_000);

    const back = log.next('Redis reachable again');
    await redis.start();
    const restartedAt = Date.now();
    await back;
    const reconnectMs = Date.now() - restartedAt;
    const after = await fourCalls();
    expect(after.statuses).toEqual([200, 200, 200, 429]);
    expect(await countedInRedis(after.keyId)).toBe(true);
    expect(await countedInRedis(during.keyId)).toBe(false);
    console.log(`redis gone: fallback logged ${restartedAt - killedAt} ms before the restart; slowest call while gone ${during.slowestMs} ms; back in Redis ${reconnectMs} ms after its restart`);
  }, 60_000);
});
