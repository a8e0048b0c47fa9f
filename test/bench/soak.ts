/**
 * `npm run bench -- --soak`: one gateway under a steady mixed load (half the
 * connections non-stream, half stream) for minutes, to see whether its
 * memory grows. Every second: the gateway's RSS (and anonymous part) from
 * /proc, its V8 heap from `--trace-gc` (a V8 flag, so nothing in the
 * gateway changes), its CPU, and the responses that arrived.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { diff, groups } from './heap-diff.js';
import { type LoadResult, newLiveCounts, runLoad } from './load.js';
import { cpuSeconds, rssMb } from './processes.js';
import { type PromptMode, variedPrompts } from './prompts.js';
import type { Machine, TargetId } from './report.js';
import type { Accounting } from './setup-gateway.js';
import { type SoakSample, intervals, verdict, type SoakReport } from './soak-report.js';
import { check, type MockOptions, quiesce, startMocks, startTarget, type TargetOptions } from './targets.js';

export interface SoakOptions {
  target: Extract<TargetId, 'gateway-pglite' | 'gateway-postgres'>;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  mocks: MockOptions;
  targets: TargetOptions;
  machine: Machine;
  log: (msg: string) => void;
  /**
   * A folder: the gateway writes a heap snapshot there after the first
   * minute and near the end (SIGUSR2), and the two are diffed. Writing one
   * stalls the gateway and inflates its RSS, so such a run's curve is not
   * the soak's figure: this is for finding what grows.
   */
  heapSnapshotDir?: string;
  prompts: PromptMode;
}

const GC_LINE = /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: ([A-Za-z -]+?)(?: \(reduce\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/**
 * What `--trace-gc` says, per isolate: tsx's loader runs in a worker with
 * its own heap and its own lines, so the gateway's isolate is the one that
 * collects most.
 */
class GcTrace {
  readonly #isolates = new Map<string, { events: number; afterMb: number; afterFullMb: number | undefined }>();
  #partial = '';

  feed(chunk: Buffer): void {
    const lines = (this.#partial + chunk.toString('utf8')).split('\n');
    this.#partial = lines.pop()!.slice(-2000);
    for (const line of lines) {
      const m = GC_LINE.exec(line);
      if (!m) continue;
      const iso = this.#isolates.get(m[1]!) ?? { events: 0, afterMb: 0, afterFullMb: undefined };
      iso.events++;
      iso.afterMb = Number(m[5]);
      if (m[2] === 'Mark-Compact') iso.afterFullMb = Number(m[5]);
      this.#isolates.set(m[1]!, iso);
    }
  }

  /** Heap used after the latest collection, and after the latest full (mark-compact) one, in MB. */
  latest(): { heapMb?: number; heapAfterFullGcMb?: number; gcEvents: number } {
    let main: { events: number; afterMb: number; afterFullMb: number | undefined } | undefined;
    for (const iso of this.#isolates.values()) if (!main || iso.events > main.events) main = iso;
    if (!main) return { gcEvents: 0 };
    return { heapMb: main.afterMb, ...(main.afterFullMb !== undefined ? { heapAfterFullGcMb: main.afterFullMb } : {}), gcEvents: main.events };
  }
}

function anonMb(pid: number): number {
  const m = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The diff of the two snapshots this gateway wrote (named Heap.<date>.<time>.<pid>.<tid>.<seq>.heapsnapshot). */
function diffSnapshots(dir: string, pid: number): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.heapsnapshot') && f.includes(`.${pid}.`))
    .sort();
  if (files.length < 2) return undefined;
  return diff(groups(join(dir, files[0]!)), groups(join(dir, files.at(-1)!)), 40);
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  o.log(`── soak: ${o.target}, ${o.warmupSeconds} s warm-up + ${o.seconds} s at ${o.connections} connections (half stream)`);
  const mocks = await startMocks(o.mocks);
  const gc = new GcTrace();
  const snapshotArgs = o.heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${o.heapSnapshotDir}`] : [];
  const running = await startTarget(o.target, mocks, { ...o.targets, gatewayNodeArgs: [...(o.targets.gatewayNodeArgs ?? []), '--trace-gc', ...snapshotArgs] });
  running.server.process.stdout!.on('data', (chunk: Buffer) => gc.feed(chunk));
  const pid = running.serverPid('fast');
  const startupRssMb = rssMb(pid);
  const ep = running.endpoint('fast');
  await check(ep, false);
  await check(ep, true);

  const live = newLiveCounts();
  const samples: SoakSample[] = [];
  const t0 = performance.now();
  let last = { ...live, cpu: cpuSeconds(pid), at: t0 };
  const sample = () => {
    try {
      const now = performance.now();
      const cpu = cpuSeconds(pid);
      const ok = live.responses2xx - live.mismatches - (last.responses2xx - last.mismatches);
      const bad = live.non2xx + live.errors + live.mismatches - (last.non2xx + last.errors + last.mismatches);
      const heap = gc.latest();
      samples.push({
        t: round1((now - t0) / 1000),
        rssMb: round1(rssMb(pid)),
        anonMb: round1(anonMb(pid)),
        ...(heap.heapMb !== undefined ? { heapMb: heap.heapMb } : {}),
        ...(heap.heapAfterFullGcMb !== undefined ? { heapAfterFullGcMb: heap.heapAfterFullGcMb } : {}),
        ok,
        bad,
        cores: Math.round(((cpu - last.cpu) / ((now - last.at) / 1000)) * 100) / 100,
      });
      last = { ...live, cpu, at: now };
      // A line every 30 s, so a five-minute run shows it is alive and where memory is heading.
      if (samples.length % 30 === 0) {
        const w = samples.slice(-30);
        const s = samples.at(-1)!;
        o.log(`${s.t.toFixed(0).padStart(4)} s  rss ${s.rssMb.toFixed(0)} MB  heap after full GC ${s.heapAfterFullGcMb?.toFixed(0) ?? '–'} MB  ${(w.reduce((n, x) => n + x.ok, 0) / w.length).toFixed(0)} req/s  ${w.reduce((n, x) => n + x.bad, 0)} failed`);
      }
    } catch {
      // the gateway is gone: the load will say so
    }
  };
  const timer = setInterval(sample, 1000);
  const snapshotTimers = o.heapSnapshotDir
    ? [o.warmupSeconds + Math.min(60, o.seconds / 3), o.warmupSeconds + o.seconds - Math.min(20, o.seconds / 5)].map((t) =>
        setTimeout(() => {
          o.log(`heap snapshot requested at ${t.toFixed(0)} s`);
          process.kill(pid, 'SIGUSR2');
        }, t * 1000),
      )
    : [];
  const half = Math.floor(o.connections / 2);
  const duration = o.warmupSeconds + o.seconds;
  const prompt = variedPrompts();
  const body = (stream: boolean) => (o.prompts === 'fixed' ? ep.body(stream) : () => ep.body(stream, prompt()));
  let loads: { nonStream: LoadResult; stream: LoadResult };
  try {
    const [nonStream, stream] = await Promise.all([
      runLoad({ url: ep.url, headers: ep.headers, body: body(false), connections: o.connections - half, durationSeconds: duration, stream: false, live }),
      runLoad({ url: ep.url, headers: ep.headers, body: body(true), connections: half, durationSeconds: duration, stream: true, live }),
    ]);
    loads = { nonStream, stream };
  } finally {
    clearInterval(timer);
    for (const t of snapshotTimers) clearTimeout(t);
  }
  sample();
  const drainSeconds = (await quiesce(pid)) / 1000;
  const idleRssMb = rssMb(pid);
  // The two check requests, and every answered one; the load's last in-flight requests are cut and not counted.
  const requestsAnswered = 2 + [loads.nonStream, loads.stream].reduce((n, l) => n + l.ok + l.non2xx + l.mismatches, 0);
  const gcEvents = gc.latest().gcEvents;
  const extra = await running.finish();
  await Promise.all(Object.values(mocks).map((m) => m.child.stop(2_000)));
  const accounting: Accounting | undefined = extra.accounting;
  const heapDiff = o.heapSnapshotDir ? diffSnapshots(o.heapSnapshotDir, pid) : undefined;

  return {
    date: new Date().toISOString(),
    machine: o.machine,
    settings: { target: o.target, seconds: o.seconds, warmupSeconds: o.warmupSeconds, connections: o.connections, streamConnections: half, streamChunks: o.mocks.chunks, prompts: o.prompts },
    startupRssMb: round1(startupRssMb),
    idleRssMb: round1(idleRssMb),
    drainSeconds,
    gcEvents,
    samples,
    intervals: intervals(samples, o.warmupSeconds, 30),
    verdict: verdict(samples, o.warmupSeconds, o.seconds),
    loads,
    requestsAnswered,
    ...(accounting ? { accounting } : {}),
    ...(heapDiff ? { heapDiff } : {}),
    totalSeconds: (performance.now() - started) / 1000,
  };
}
