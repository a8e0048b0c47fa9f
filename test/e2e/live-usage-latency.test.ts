// The live usage event leaves when a request closes, not with its settlement
// batch (SETTLE_DELAY_MS = 100 ms later): a graphql-ws subscriber on the
// same replica, or on a second replica of the same database (Postgres
// NOTIFY), hears of a request within 30 ms of its answer (median of nine).
//
// A timing assertion on a shared 2-CPU machine: each run waits for its own
// event (no sleeps), two warm-up requests come first, and the bound sits
// between the target and the old floor — under the batch delay, a median of
// 30 ms cannot come from an event that still waits for the batch.
import { performance } from 'node:perf_hooks';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTLE_DELAY_MS } from '../../src/core/billing/metering.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';
import { onPostgres } from '../helpers/test-database.js';
import { wsClient } from '../graphql/graphql-client.js';
import { nextSubscriber } from '../graphql/subscriber-ready.js';

const RUNS = 9;
const TARGET_MS = 30;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** A usage subscription that stamps each event with its arrival (performance.now()). */
function arrivals(client: Client, projectId: string) {
  const seen = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  const stop = client.subscribe<{ usage: { requestId: string; settled: boolean } }>(
    { query: 'subscription($p: ID) { usage(projectId: $p) { requestId settled } }', variables: { p: projectId } },
    {
      next: ({ data }) => {
        const at = performance.now();
        const id = data?.usage.requestId;
        if (!id) return;
        const w = waiting.get(id);
        if (w) w(at);
        else seen.set(id, at);
      },
      error: () => {},
      complete: () => {},
    },
  );
  return {
    arrival(requestId: string): Promise<number> {
      const at = seen.get(requestId);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve) => waiting.set(requestId, resolve));
    },
    stop,
  };
}

/** Delays (ms) from each answer reaching the client to its usage event reaching the subscriber. */
async function measure(serving: TestGateway, watching: TestGateway): Promise<number[]> {
  const { projectId, secret } = await serving.project();
  const client = wsClient(watching.url, { authorization: `Bearer ${watching.adminToken}` });
  const ready = nextSubscriber(watching.gateway.bus, 'usage');
  const feed = arrivals(client, projectId);
  await ready;
  const openai = serving.client(secret);
  const delays: number[] = [];
  try {
    for (let i = 0; i < RUNS + 2; i++) {
      const res = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `latency ${i}` }] }).withResponse();
      const answeredAt = performance.now();
      const arrivedAt = await feed.arrival(res.response.headers.get('x-request-id')!);
      if (i >= 2) delays.push(arrivedAt - answeredAt);
    }
  } finally {
    feed.stop();
    await client.dispose();
  }
  return delays;
}

let one: TestGateway;
beforeAll(async () => {
  one = await startGateway();
});
afterAll(async () => one?.close());

describe('the live usage event', () => {
  it(`reaches a subscriber on the same replica within ${TARGET_MS} ms of the answer (median of ${RUNS})`, async () => {
    const delays = await measure(one, one);
    console.info(`live usage, same replica: median ${median(delays).toFixed(1)} ms over ${RUNS} runs (${delays.map((d) => d.toFixed(1)).join(', ')})`);
    expect(TARGET_MS).toBeLessThan(SETTLE_DELAY_MS);
    expect(median(delays)).toBeLessThan(TARGET_MS);
  });

  describe.skipIf(!onPostgres())('across replicas', () => {
    let two: TestGateway;
    beforeAll(async () => {
      two = await startGateway({ databaseUrl: one.databaseUrl!, encryptionKey: one.encryptionKey });
    });
    afterAll(async () => two?.close());

    it(`reaches a subscriber on another replica of the same database within ${TARGET_MS} ms (median of ${RUNS})`, async () => {
      const delays = await measure(one, two);
      console.info(`live usage, across replicas: median ${median(delays).toFixed(1)} ms over ${RUNS} runs (${delays.map((d) => d.toFixed(1)).join(', ')})`);
      expect(median(delays)).toBeLessThan(TARGET_MS);
    });
  });
});
