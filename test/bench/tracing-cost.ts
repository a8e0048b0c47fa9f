/**
 * What tracing at ratio 1 costs per request on its own: the core's spans
 * for one request (server, attempt, admission, settlement) drawn the way
 * the gateway draws them, batched, encoded and sent by the SDK to the
 * bench's OTLP sink (a child process), with no HTTP server, database or
 * upstream around them. The gateway's own figure (variant-cost.ts) moves
 * with the machine by a third between runs; this one holds still, so a
 * change to the tracing path can be judged here first. Prints CPU µs and
 * heap bytes allocated per request, each the median of its rounds.
 *   npx tsx test/bench/tracing-cost.ts
 * Env: TRACING_COST_REQUESTS (per round, 50,000), TRACING_COST_ROUNDS (5),
 * OTEL_BSP_* (the batch span processor's, as the gateway reads them),
 * TRACING_COST_HEAP_DIR (writes the traced round's heap profile there, to see
 * where the bytes are allocated; opens in Chrome DevTools' Memory tab).
 */
import { spawn } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { setImmediate as tick } from 'node:timers/promises';
import type { Tracing } from '../../src/core/telemetry/tracing.js';
import type { AttemptInfo } from '../../src/core/telemetry/tracing-seams.js';
import { tracingFor } from '../../src/telemetry/tracing-sdk.js';
import { tracingSettings } from '../../src/telemetry/tracing-settings.js';
import { requestSummary } from '../helpers/request-summary.js';

const REQUESTS = Number(process.env.TRACING_COST_REQUESTS ?? 50_000);
const ROUNDS = Number(process.env.TRACING_COST_ROUNDS ?? 5);
/** Requests open at once, and settled together: as the gateway under 50 connections and its settlement batches. */
const IN_FLIGHT = 50;

async function startSink(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/otlp-sink.ts'], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of child.stdout) {
    out += String(chunk);
    const port = /BENCH_READY (\d+)/.exec(out)?.[1];
    if (port) return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
  }
  throw new Error(`the OTLP sink did not start: ${out}`);
}

const ATTEMPT: AttemptInfo = { operation: 'chat', provider: 'openai', modelId: 'gpt-4o-mini', upstreamModel: 'gpt-4o-mini', baseUrl: 'http://127.0.0.1:9999/v1', upstreamKeyId: 'uk_0123456789abcdef', attempt: 1 };

/** One batch of requests through tracing (or, with none, only the summaries the gateway makes anyway). */
function requests(tracing: Tracing | undefined, round: number, batch: number): void {
  const now = Date.now();
  const settled = [];
  for (let i = 0; i < IN_FLIGHT; i++) {
    const requestId = `req_${round}_${batch}_${i}`;
    const summary = requestSummary(requestId, { projectId: 'prj_0123456789abcdef', receivedAt: now - 3, startedAt: now - 2, endedAt: now });
    settled.push({ requestId, charged: summary.cost });
    if (!tracing) continue;
    const trace = tracing.startRequest(requestId, { host: 'gateway' }, 'POST /v1/chat/completions', () => ({
      'http.request.method': 'POST',
      'url.path': '/v1/chat/completions',
      'url.scheme': 'http',
      'http.route': '/v1/chat/completions',
    }));
    const attempt = tracing.startAttempt(trace, ATTEMPT)!;
    attempt.response('gpt-4o-mini-2024-07-18');
    attempt.finishReason('stop');
    attempt.succeeded();
    tracing.requestClosed(summary);
    tracing.endRequest(trace, 200, false);
  }
  tracing?.requestsSettled(settled, now, now + 2);
}

async function round(tracing: Tracing | undefined, n: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  for (let b = 0; b < REQUESTS / IN_FLIGHT; b++) {
    requests(tracing, n, b);
    // The exporter's HTTP requests and timers run between batches, as between a gateway's requests.
    await tick();
  }
  await tracing?.flush();
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / REQUESTS;
}

/** Heap bytes allocated per request (V8's sampling heap profiler, counting what was collected too): a round of its own, as sampling costs CPU. */
async function allocated(tracing: Tracing | undefined, n: number): Promise<number> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await round(tracing, n);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  if (process.env.TRACING_COST_HEAP_DIR && tracing) (await import('node:fs')).writeFileSync(`${process.env.TRACING_COST_HEAP_DIR}/tracing.heapprofile`, JSON.stringify(profile));
  let bytes = 0;
  const walk = (node: typeof profile.head): void => {
    bytes += node.selfSize;
    node.children.forEach(walk);
  };
  walk(profile.head);
  return bytes / REQUESTS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const sink = await startSink();
  // The batch span processor's variables pass through, to weigh its settings.
  const batch = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('OTEL_BSP_')));
  const settings = tracingSettings({ ...batch, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' })!;
  const tracing = tracingFor(settings);
  await round(tracing, -1); // warm-up
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) cpu.push((await round(tracing, r)) - (await round(undefined, r)));
  const bytes = (await allocated(tracing, ROUNDS)) - (await allocated(undefined, ROUNDS));
  await tracing.shutdown();
  sink.stop();
  process.stdout.write(
    `tracing at ratio 1, per request: ${median(cpu).toFixed(1)} µs CPU (median of ${ROUNDS} rounds of ${REQUESTS}: ${cpu.map((c) => c.toFixed(1)).join(', ')}), ${(bytes / 1024).toFixed(1)} KB allocated\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
