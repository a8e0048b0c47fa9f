/**
 * One load run with autocannon's programmatic API. autocannon's own latency
 * histogram has 1 ms resolution, too coarse for sub-millisecond overheads,
 * so every response's time (hrtime, in ms) is kept here and percentiles are
 * computed from the raw samples. Time to first byte is taken per request
 * from the client's first body bytes (`setupClient`), which for SSE is the
 * first event.
 */
import { performance } from 'node:perf_hooks';
import autocannon, { type AutocannonClient } from 'autocannon';

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  /** One body for every request, or a function called for each request's body. */
  body: string | (() => string);
  connections: number;
  durationSeconds: number;
  /** Checks every body: a stream must end with `[DONE]`, a completion must have choices. */
  stream: boolean;
  /** Counted as responses arrive, for a caller that reports per interval (the soak). */
  live?: LiveCounts;
}

/** Running totals of one or more loads; a 2xx whose body fails the check counts as a mismatch too. */
export interface LiveCounts {
  responses2xx: number;
  non2xx: number;
  errors: number;
  mismatches: number;
}

export const newLiveCounts = (): LiveCounts => ({ responses2xx: 0, non2xx: 0, errors: 0, mismatches: 0 });

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  seconds: number;
  /** 2xx responses that passed the body check. */
  ok: number;
  rps: number;
  latencyMs: Percentiles;
  ttfbMs: Percentiles | null;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  statusCodes: Record<string, number>;
  /** CPU of this process (the load generator) over the run, in cores. */
  loadgenCpu: number;
}

export function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) return { p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}

const bodyFrom =
  (next: () => string) =>
  <R extends { body?: string | Buffer }>(req: R): R => {
    req.body = next();
    return req;
  };

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  const setupClient = (client: AutocannonClient) => {
    let started = 0;
    let first = true;
    client.on('request', () => {
      started = performance.now();
      first = true;
    });
    client.on('body', () => {
      if (first) {
        first = false;
        ttfbs.push(performance.now() - started);
      }
    });
  };
  const verifyBody = options.stream
    ? (body: string) => body.endsWith('data: [DONE]\n\n') && !body.includes('"error":')
    : (body: string) => body.includes('"choices"') && !body.includes('"error":');

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await new Promise<import('autocannon').AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        ...(typeof options.body === 'string' ? { body: options.body } : { requests: [{ setupRequest: bodyFrom(options.body) }] }),
        connections: options.connections,
        pipelining: 1,
        duration: options.durationSeconds,
        timeout: 30,
        setupClient,
        verifyBody,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    const live = options.live;
    instance.on('response', (_client, statusCode, _bytes, ms) => {
      if (statusCode >= 200 && statusCode < 300) {
        latencies.push(ms);
        if (live) live.responses2xx++;
      } else if (live) live.non2xx++;
    });
    if (live) {
      instance.on('reqError', () => live.errors++);
      instance.on('reqMismatch', () => live.mismatches++);
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);

  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
  const ok = Math.max(0, result['2xx'] - result.mismatches);
  return {
    seconds,
    ok,
    rps: ok / seconds,
    latencyMs: percentiles(latencies),
    ttfbMs: options.stream ? percentiles(ttfbs) : null,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    statusCodes,
    loadgenCpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}
