/**
 * CPU per closed request of the metrics observer and of the access line,
 * measured alone (no HTTP, no database): what `npm run bench` compares as
 * the gateway with metrics on and off, without the noise of the whole
 * request around it.
 *
 *   npx tsx test/bench/metrics-observer-cost.ts
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/create-logger.js';
import { LocalEventBus } from '../../src/core/events/event-bus.js';
import { AccessLog } from '../../src/core/telemetry/access-log.js';
import { GatewayMetrics } from '../../src/core/telemetry/metrics.js';
import type { RequestSummary } from '../../src/core/telemetry/request-observer.js';

const N = 200_000;
const now = Date.now();
const summary = (i: number): RequestSummary => ({
  requestId: `req_${i}`,
  projectId: 'prj_bench',
  apiKeyId: 'key_bench',
  endpoint: i % 5 === 0 ? 'embeddings' : 'chat',
  modelId: i % 5 === 0 ? 'bench-embed' : `bench-${i % 3}`,
  route: { modelId: 'bench', provider: 'openai', upstreamModel: 'bench-upstream', upstreamKeyId: `upk_${i % 4}`, attempts: 1 },
  status: 'ok',
  httpStatus: 200,
  errorCode: null,
  usage: { promptTokens: 120, completionTokens: 64, cachedTokens: 0, reasoningTokens: 0 },
  cost: 2_000_000_000n,
  reservedCost: 9_000_000_000n,
  stream: i % 2 === 0,
  test: false,
  receivedAt: now,
  startedAt: now + 1,
  endedAt: now + 12,
  admissionMs: 1,
  ttftMs: i % 2 === 0 ? 4 : null,
  attempts: [{ attempt: 1, modelId: 'bench', provider: 'openai', upstreamModel: 'bench-upstream', upstreamKeyId: `upk_${i % 4}`, outcome: 'ok', upstreamStatus: 200, error: null, startedAt: now + 1, durationMs: 9 }],
  traceId: null,
});

const summaries = Array.from({ length: 1000 }, (_, i) => summary(i));
const fakeDb = { select: () => ({ from: async () => [] }) } as never;
const metering = { observeSettlements() {}, openCount: 0, settlementQueue: { depth: 0, oldestQueuedAt: undefined } } as never;
const catalogue = { get: () => ({}) } as never;
const health = { snapshots: () => [] } as never;
const bus = new LocalEventBus();
const logger = { debug() {}, info() {}, warn() {}, error() {} };

/** CPU microseconds per call of `fn`, after a warm-up for the JIT. */
function cpuMicros(fn: () => void): number {
  for (let k = 0; k < N / 10; k++) fn();
  const t0 = process.cpuUsage();
  for (let k = 0; k < N; k++) fn();
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / N;
}

const metrics = new GatewayMetrics({ metering, health, catalogue, bus, logger, perProject: false, scrape: { db: fakeDb, replicaId: 'rep', pool: undefined } });
let i = 0;
const observe = () => metrics.requestClosed(summaries[i++ % 1000]!);
const metricsUs = cpuMicros(observe);

const sink = new Writable({ write: (_c, _e, done) => done() });
const access = new AccessLog(createLogger('info', sink));
const accessUs = cpuMicros(() => access.requestClosed(summaries[i++ % 1000]!));
const quiet = new AccessLog(createLogger('warn', sink));
const quietUs = cpuMicros(() => quiet.requestClosed(summaries[i++ % 1000]!));

process.stdout.write(`metrics observer: ${metricsUs.toFixed(2)} µs CPU per request\n`);
process.stdout.write(`access line at info (to a null stream): ${accessUs.toFixed(2)} µs; at warn: ${quietUs.toFixed(2)} µs\n`);
metrics.close();
