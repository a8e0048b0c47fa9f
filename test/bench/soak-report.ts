/** The soak's figures: 30-second rows, the growth verdict, Markdown and an SVG plot of the curve. */
import type { LoadResult } from './load.js';
import { describePrompts, type PromptMode } from './prompts.js';
import { fmt, type Machine, TARGET_LABELS, type TargetId } from './report.js';
import type { Accounting } from './setup-gateway.js';

/** One second of the soak. */
export interface SoakSample {
  /** Seconds since the load started (warm-up included). */
  t: number;
  rssMb: number;
  /** The anonymous part of RSS (heap, buffers; not mapped files). */
  anonMb: number;
  /** V8 heap used after the latest collection of any kind, from --trace-gc. */
  heapMb?: number;
  /** V8 heap used after the latest full (mark-compact) collection: what the heap really holds. */
  heapAfterFullGcMb?: number;
  /** Responses in that second: good, and failed (non-2xx, errors, bad bodies). */
  ok: number;
  bad: number;
  /** The gateway's CPU in that second, in cores. */
  cores: number;
}

export interface SoakInterval {
  fromS: number;
  toS: number;
  warmup: boolean;
  rssMedianMb: number;
  rssMaxMb: number;
  heapAfterFullGcMb: number | undefined;
  rps: number;
  errors: number;
  cores: number;
}

export interface SoakVerdict {
  windowSeconds: number;
  firstMedianMb: number;
  lastMedianMb: number;
  growthMb: number;
  growthPct: number;
  /** Least-squares slope of RSS over the soak (warm-up excluded). */
  slopeMbPerMin: number;
  heapFirstMb: number | undefined;
  heapLastMb: number | undefined;
  peakRssMb: number;
  rule: string;
  noGrowth: boolean;
}

export interface SoakReport {
  date: string;
  machine: Machine;
  settings: { target: TargetId; seconds: number; warmupSeconds: number; connections: number; streamConnections: number; streamChunks: number; prompts: PromptMode };
  startupRssMb: number;
  /** After the load stopped and the gateway went idle. */
  idleRssMb: number;
  drainSeconds: number;
  gcEvents: number;
  samples: SoakSample[];
  intervals: SoakInterval[];
  verdict: SoakVerdict;
  loads: { nonStream: LoadResult; stream: LoadResult };
  requestsAnswered: number;
  accounting?: Accounting;
  /** With heap snapshots: what grew between the first minute and the end (heap-diff.ts). */
  heapDiff?: string;
  totalSeconds: number;
}

/** Growth under this many MB, or this share of the first minute, is "no growth". */
export const GROWTH_MB = 10;
export const GROWTH_SHARE = 0.05;

const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const between = (samples: SoakSample[], from: number, to: number) => samples.filter((s) => s.t > from && s.t <= to);

export function intervals(samples: SoakSample[], warmupSeconds: number, step: number): SoakInterval[] {
  const end = samples.at(-1)?.t ?? 0;
  const out: SoakInterval[] = [];
  // Warm-up is one row of its own, so the soak's rows start where its clock does.
  const edges = [0, ...(warmupSeconds > 0 ? [warmupSeconds] : [])];
  while (edges.at(-1)! + step < end + 0.5) edges.push(edges.at(-1)! + step);
  // A few seconds left over (the sample taken as the load stops) join the last row rather than make one.
  if (edges.at(-1)! < end) {
    if (end - edges.at(-1)! < step / 3 && edges.length > 2) edges[edges.length - 1] = end;
    else edges.push(end);
  }
  for (let i = 1; i < edges.length; i++) {
    const from = edges[i - 1]!;
    const to = edges[i]!;
    const w = between(samples, from, to);
    if (w.length === 0) continue;
    const seconds = w.length;
    out.push({
      fromS: from,
      toS: to,
      warmup: to <= warmupSeconds,
      rssMedianMb: median(w.map((s) => s.rssMb)),
      rssMaxMb: Math.max(...w.map((s) => s.rssMb)),
      heapAfterFullGcMb: w.at(-1)!.heapAfterFullGcMb,
      rps: w.reduce((n, s) => n + s.ok, 0) / seconds,
      errors: w.reduce((n, s) => n + s.bad, 0),
      cores: w.reduce((n, s) => n + s.cores, 0) / seconds,
    });
  }
  return out;
}

export function verdict(samples: SoakSample[], warmupSeconds: number, soakSeconds: number): SoakVerdict {
  const window = Math.min(60, Math.max(1, Math.floor(soakSeconds / 3)));
  const end = warmupSeconds + soakSeconds;
  const first = between(samples, warmupSeconds, warmupSeconds + window);
  const last = between(samples, end - window, end + 1);
  const firstMedianMb = median(first.map((s) => s.rssMb));
  const lastMedianMb = median(last.map((s) => s.rssMb));
  const growthMb = lastMedianMb - firstMedianMb;
  const soak = between(samples, warmupSeconds, end + 1);
  const mt = soak.reduce((n, s) => n + s.t, 0) / soak.length;
  const mr = soak.reduce((n, s) => n + s.rssMb, 0) / soak.length;
  const cov = soak.reduce((n, s) => n + (s.t - mt) * (s.rssMb - mr), 0);
  const vt = soak.reduce((n, s) => n + (s.t - mt) ** 2, 0);
  const heap = (w: SoakSample[]) => {
    const xs = w.map((s) => s.heapAfterFullGcMb).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  // Full collections can be minutes apart: without one in the first window, the first one after it.
  const heapFirstMb = heap(first) ?? samples.find((s) => s.t > warmupSeconds && s.heapAfterFullGcMb !== undefined)?.heapAfterFullGcMb;
  return {
    windowSeconds: window,
    firstMedianMb,
    lastMedianMb,
    growthMb,
    growthPct: (growthMb / firstMedianMb) * 100,
    slopeMbPerMin: vt > 0 ? (cov / vt) * 60 : NaN,
    heapFirstMb,
    heapLastMb: heap(last),
    peakRssMb: Math.max(...soak.map((s) => s.rssMb)),
    rule:
      `median RSS of the last ${window} s minus that of the first ${window} s after warm-up: ` +
      `"no growth" when it is at most ${GROWTH_MB} MB or at most ${GROWTH_SHARE * 100}% of the first ${window} s`,
    noGrowth: growthMb <= GROWTH_MB || growthMb <= GROWTH_SHARE * firstMedianMb,
  };
}

const BARS = '▁▂▃▄▅▆▇█';

/** One character per `step` seconds, scaled between the curve's own min and max. */
export function sparkline(values: number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => BARS[hi > lo ? Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1)) : 0]).join('');
}

const everyN = (samples: SoakSample[], step: number, pick: (w: SoakSample[]) => number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < samples.length; i += step) out.push(pick(samples.slice(i, i + step)));
  return out;
};

/** RSS and heap after full GC over time, warm-up shaded, the two compared windows marked. */
export function soakSvg(r: SoakReport): string {
  const W = 760;
  const H = 260;
  const L = 48;
  const R = 12;
  const T = 28;
  const B = 34;
  const tMax = Math.max(1, r.samples.at(-1)?.t ?? 1);
  const values = r.samples.flatMap((s) => [s.rssMb, s.heapAfterFullGcMb ?? s.rssMb]);
  const yMax = Math.ceil(Math.max(160, ...values) / 50) * 50;
  const x = (t: number) => L + (t / tMax) * (W - L - R);
  const y = (mb: number) => Math.round((T + (1 - mb / yMax) * (H - T - B)) * 10) / 10;
  const path = (pts: Array<[number, number]>) => pts.map(([t, mb], i) => `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(mb).toFixed(1)}`).join('');
  const v = r.verdict;
  const end = r.settings.warmupSeconds + r.settings.seconds;
  const rect = (from: number, to: number, fill: string) =>
    `<rect x="${x(from).toFixed(1)}" y="${T}" width="${(x(Math.min(to, tMax)) - x(from)).toFixed(1)}" height="${H - T - B}" fill="${fill}"/>`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    rect(0, r.settings.warmupSeconds, '#eee'),
    rect(r.settings.warmupSeconds, r.settings.warmupSeconds + v.windowSeconds, '#e6f0ff'),
    rect(end - v.windowSeconds, end, '#e6f0ff'),
  ];
  for (let mb = 0; mb <= yMax; mb += 50) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(mb)}" y2="${y(mb)}" stroke="${mb === 150 ? '#c33' : '#ddd'}" stroke-dasharray="${mb === 150 ? '4 3' : ''}"/>`);
    parts.push(`<text x="${L - 6}" y="${y(mb) + 4}" text-anchor="end">${mb}</text>`);
  }
  for (let t = 0; t <= tMax; t += 60) parts.push(`<text x="${x(t)}" y="${H - B + 16}" text-anchor="middle">${t / 60} min</text>`);
  parts.push(`<path d="${path(r.samples.map((s) => [s.t, s.rssMb]))}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>`);
  const heap = r.samples.filter((s) => s.heapAfterFullGcMb !== undefined).map((s): [number, number] => [s.t, s.heapAfterFullGcMb!]);
  if (heap.length) parts.push(`<path d="${path(heap)}" fill="none" stroke="#d07a00" stroke-width="1.5"/>`);
  parts.push(
    `<text x="${L}" y="16" font-size="12"><tspan fill="#1f5fbf">RSS MB</tspan> · <tspan fill="#d07a00">V8 heap after full GC MB</tspan> · ` +
      `<tspan fill="#c33">150 MB target</tspan> · grey: warm-up · blue: compared minutes (${fmt(v.firstMedianMb, 0)} → ${fmt(v.lastMedianMb, 0)} MB)</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export function soakMarkdown(r: SoakReport, stem = 'soak'): string {
  const m = r.machine;
  const v = r.verdict;
  const s = r.settings;
  const all = [r.loads.nonStream, r.loads.stream];
  const ok = all.reduce((n, l) => n + l.ok, 0);
  const bad = all.reduce((n, l) => n + l.non2xx + l.errors + l.mismatches, 0);
  const seconds = Math.max(...all.map((l) => l.seconds));
  const lines: string[] = [];
  lines.push('# Gateway soak');
  lines.push('');
  lines.push(`${r.date} · ${m.nproc} CPUs (${m.cpuModel}) · Node ${m.node} · Linux ${m.kernel}${m.postgres ? ` · ${m.postgres}` : ''} · code at ${m.commit}${m.uncommittedSrcFiles ? ` + ${m.uncommittedSrcFiles} uncommitted files in src/` : ''}`);
  lines.push('');
  lines.push(
    `${TARGET_LABELS[s.target]}, ${s.warmupSeconds} s warm-up then ${s.seconds} s of steady load: ${s.connections - s.streamConnections} connections non-stream and ${s.streamConnections} stream ` +
      `(${s.streamChunks} content chunks), one request in flight each, autocannon; ${describePrompts(s.prompts)}; ${m.pinning}. RSS is VmRSS from /proc every second; ` +
      `the heap is V8's own figure after each collection, from \`--trace-gc\` on the gateway. Throughput is noisy on this shared machine (others run loads on it); the RSS curve is what this run is for.`,
  );
  lines.push('');
  lines.push(`**Verdict: ${v.noGrowth ? 'no growth' : 'grows'}.** RSS ${fmt(v.firstMedianMb, 1)} MB (median, first ${v.windowSeconds} s after warm-up) → ${fmt(v.lastMedianMb, 1)} MB (last ${v.windowSeconds} s): ${v.growthMb >= 0 ? '+' : ''}${fmt(v.growthMb, 1)} MB (${v.growthPct >= 0 ? '+' : ''}${fmt(v.growthPct, 1)}%); slope over the soak ${v.slopeMbPerMin >= 0 ? '+' : ''}${fmt(v.slopeMbPerMin, 2)} MB/min. ` +
    `V8 heap after full GC ${fmt(v.heapFirstMb, 1)} → ${fmt(v.heapLastMb, 1)} MB. Rule: ${v.rule}.`);
  lines.push('');
  lines.push(
    `Peak RSS ${fmt(v.peakRssMb, 0)} MB against the 150 MB target (**${v.peakRssMb <= 150 ? 'met' : 'not met'}**); ${fmt(r.startupRssMb, 0)} MB after start, ${fmt(r.idleRssMb, 0)} MB idle after the load. ` +
      `${ok} good responses (${fmt(ok / seconds, 0)} req/s: non-stream ${fmt(r.loads.nonStream.rps, 0)}, stream ${fmt(r.loads.stream.rps, 0)}), ${bad} failed; p50/p99 ${fmt(r.loads.nonStream.latencyMs.p50, 1)}/${fmt(r.loads.nonStream.latencyMs.p99, 1)} ms non-stream, ${fmt(r.loads.stream.latencyMs.p50, 1)}/${fmt(r.loads.stream.latencyMs.p99, 1)} ms stream.`,
  );
  lines.push('');
  const a = r.accounting;
  lines.push(
    a
      ? `Accounting after the gateway stopped: ${a.usageRows} usage rows for ${r.requestsAnswered} requests answered (those cut off in flight when the load stopped have rows too), ${a.unsettled} still reserved (**${a.unsettled === 0 ? 'every reservation settled' : 'NOT all settled'}**), ${a.ledgerEntries} ledger entries, balance ${a.balance}, reserved ${a.reserved}.`
      : 'Accounting: could not be read back.',
  );
  lines.push('');
  lines.push('| elapsed s | RSS MB (median) | RSS MB (max) | heap after full GC MB | req/s | errors | gateway cores |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const i of r.intervals) {
    lines.push(`| ${i.fromS.toFixed(0)}–${i.toS.toFixed(0)}${i.warmup ? ' (warm-up)' : ''} | ${fmt(i.rssMedianMb, 1)} | ${fmt(i.rssMaxMb, 1)} | ${fmt(i.heapAfterFullGcMb, 1)} | ${fmt(i.rps, 0)} | ${i.errors} | ${fmt(i.cores, 2)} |`);
  }
  lines.push('');
  const step = 10;
  const rss = everyN(r.samples, step, (w) => median(w.map((x) => x.rssMb)));
  const rps = everyN(r.samples, step, (w) => w.reduce((n, x) => n + x.ok, 0) / w.length);
  lines.push(`One character per ${step} s, each line scaled to its own range:`);
  lines.push('');
  lines.push('```');
  lines.push(`RSS   ${sparkline(rss)}  ${fmt(Math.min(...rss), 0)}–${fmt(Math.max(...rss), 0)} MB`);
  lines.push(`req/s ${sparkline(rps)}  ${fmt(Math.min(...rps), 0)}–${fmt(Math.max(...rps), 0)}`);
  lines.push('```');
  lines.push('');
  lines.push(`![RSS and V8 heap over the soak](${stem}.svg)`);
  lines.push('');
  if (r.heapDiff) {
    lines.push('Heap snapshots were taken in this run (after the first minute and near the end), which stalls the gateway and inflates RSS: what grew between them, by constructor:');
    lines.push('');
    lines.push('```');
    lines.push(r.heapDiff);
    lines.push('```');
    lines.push('');
  }
  lines.push(`Total ${fmt(r.totalSeconds, 0)} s. Every second's sample: \`test/bench/results/${stem}.json\`.`);
  return `${lines.join('\n')}\n`;
}
