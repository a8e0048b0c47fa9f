/**
 * One round of load at a fixed number of connections against one server,
 * with what it cost that server: the measuring step of the side-by-side
 * scripts (variant-cost.ts, responses-vs-chat.ts).
 */
import { performance } from 'node:perf_hooks';
import autocannon, { type AutocannonResult } from 'autocannon';
import { percentiles } from './load.js';
import { cpuSeconds } from './processes.js';

export interface RoundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** A 2xx body that is the answer, not an error. */
  ok: (body: string) => boolean;
}

export interface Round {
  rps: number;
  p50: number;
  p99: number;
  /** The server's CPU seconds per 1,000 answered requests. */
  cpuPer1k: number;
  /** Non-2xx, errors and 2xx bodies that were not the answer. */
  bad: number;
}

export async function measuredRound(request: RoundRequest, pid: number, seconds: number, connections: number): Promise<Round> {
  const latencies: number[] = [];
  const cpu0 = cpuSeconds(pid);
  const started = performance.now();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: request.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...request.headers },
        body: request.body,
        connections,
        pipelining: 1,
        duration: seconds,
        timeout: 30,
        verifyBody: request.ok,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_c, status, _b, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  const elapsed = (performance.now() - started) / 1000;
  const ok = result['2xx'] - result.mismatches;
  const p = percentiles(latencies);
  return { rps: ok / elapsed, p50: p.p50, p99: p.p99, cpuPer1k: ((cpuSeconds(pid) - cpu0) / ok) * 1000, bad: result.non2xx + result.errors + result.mismatches };
}
