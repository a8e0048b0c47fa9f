/** The benchmark's results as JSON, a Markdown table and a console table. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import type { DbRoundTrips } from './db-round-trips.js';
import type { Accounting, Activity, DbStats } from './setup-gateway.js';
import type { LoadResult } from './load.js';

export type TargetId = 'direct' | 'proxy' | 'gateway-pglite' | 'gateway-postgres' | GatewayVariant;

/** Stands for the bench's OTLP sink in a variant's environment. */
export const OTLP_SINK_URL = '<otlp-sink>';

/**
 * The gateway with one setting changed, on Postgres when DATABASE_URL is set
 * (else PGlite), run beside the plain gateway so what the setting costs is
 * read from one run. The plain gateway has metrics on (the default) and
 * access lines off (the bench's LOG_LEVEL=warn).
 */
export const GATEWAY_VARIANTS = {
  'gateway-nometrics': { env: { METRICS_ENABLED: 'false' }, label: 'gateway, metrics off', cost: 'metrics', costOf: 'base', limitPct: 3 },
  'gateway-accesslog': { env: { LOG_LEVEL: 'info' }, label: 'gateway, access log on', cost: 'the access log at info', costOf: 'variant', limitPct: undefined },
  // Nothing changed: what variant-cost.ts reads when both gateways are the same (an A/A run), the instrument's own bias and spread.
  'gateway-same': { env: {}, label: 'gateway again (A/A)', cost: 'nothing (A/A)', costOf: 'variant', limitPct: undefined },
  // Every request sampled, exported to a sink that discards it (otlp-sink.ts; OTLP_SINK_URL is its address, filled in by targets.ts).
  'gateway-tracing': {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_SINK_URL, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' },
    label: 'gateway, tracing on (ratio 1)',
    cost: 'tracing at ratio 1',
    costOf: 'variant',
    limitPct: 15,
  },
} as const satisfies Record<string, { env: Record<string, string>; label: string; cost: string; costOf: 'base' | 'variant'; limitPct: number | undefined }>;
export type GatewayVariant = keyof typeof GATEWAY_VARIANTS;
export const isGatewayVariant = (t: string): t is GatewayVariant => t in GATEWAY_VARIANTS;

/**
 * CPU per request with a variant's setting and without it, and the
 * setting's cost (with over without, less one): the variant turns its
 * setting on, or (costOf 'base') off, so the plain gateway has it.
 */
export function settingCost(variant: GatewayVariant, plainCpu: number, variantCpu: number): { withIt: number; without: number; cost: number } {
  const [withIt, without] = GATEWAY_VARIANTS[variant].costOf === 'base' ? [plainCpu, variantCpu] : [variantCpu, plainCpu];
  return { withIt, without, cost: withIt / without - 1 };
}

export const TARGET_LABELS: Record<TargetId, string> = {
  direct: 'direct to mock',
  proxy: 'bare proxy',
  'gateway-pglite': 'gateway (PGlite)',
  'gateway-postgres': 'gateway (Postgres)',
  'gateway-nometrics': GATEWAY_VARIANTS['gateway-nometrics'].label,
  'gateway-accesslog': GATEWAY_VARIANTS['gateway-accesslog'].label,
  'gateway-same': GATEWAY_VARIANTS['gateway-same'].label,
  'gateway-tracing': GATEWAY_VARIANTS['gateway-tracing'].label,
};

/** fast: answers at once; slow: a fixed latency before the answer; drip: a pause between stream chunks. */
export type Upstream = 'fast' | 'slow' | 'drip';

export interface Scenario {
  id: string;
  label: string;
  stream: boolean;
  connections: number;
  upstream: Upstream;
}

export interface ServerMeasure {
  /** CPU seconds of the server process from the run's start until it was idle again (settles included). */
  cpuSeconds: number;
  /** CPU seconds per 1,000 successful requests. */
  cpuPer1k: number;
  /** Average cores busy during the load window. */
  cores: number;
  /** Time after the load stopped until the server was idle (deferred settles). */
  drainSeconds: number;
  peakRssMb: number;
  /** Part of the CPU time spent in the kernel (sockets, loopback TCP). */
  systemShare: number;
}

export interface RunRecord {
  target: TargetId;
  scenario: string;
  load: LoadResult;
  server: ServerMeasure;
  /** Other processes on the load generator's core, in cores: the mock(s). */
  mockCores: number;
  /** CPU used by everything else on the machine during the run, in cores (noise). */
  otherCores: number;
  /** For the many-connections scenario: the most client connections the server held open at once. */
  peakConnections?: number;
  /** 1-minute load average when the run started. */
  loadAvg: number;
  /** The Postgres server's processes, for the Postgres gateway. */
  postgres?: { cores: number; cpuPer1k: number; activity?: Activity };
  added?: { p50Ms: number; p99Ms: number; ttfbP50Ms?: number; ttfbP99Ms?: number };
  vsProxy?: { rps: number; cpuPer1k: number };
}

export interface TargetRecord {
  target: TargetId;
  startupRssMb: number;
  /** Peak RSS during the warm-up (50 connections on a process just started), when there was one. */
  warmupPeakRssMb?: number;
  finalRssMb: number;
  /** Resident memory through the whole target run, one point a second. */
  rssCurve: Array<{ t: number; mb: number }>;
  accounting?: Accounting;
  /** Postgres only: what the database did over the whole target run (warm-up included). */
  dbStats?: DbStats;
  /** Requests sent to this target, warm-up and checks included. */
  requestsSent: number;
  profile?: string;
  /** The measured scenarios, on the monotonic clock (µs), to cut start-up and warm-up out of the profile. */
  profileWindow?: { fromUs: number; toUs: number; requests: number };
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  node: string;
  kernel: string;
  memoryGb: number;
  pinned: boolean;
  pinning: string;
  postgres?: string;
  /** The code measured: HEAD, and how many files under src/ differed from it. */
  commit: string;
  uncommittedSrcFiles: number;
}

export interface BenchReport {
  date: string;
  machine: Machine;
  settings: { durationSeconds: number; warmupSeconds: number; streamChunks: number; slowLatencyMs: number; dripIntervalMs: number; profiled: boolean };
  scenarios: Scenario[];
  runs: RunRecord[];
  targets: TargetRecord[];
  goals: Goal[];
  /** The database alone, from the gateway's CPU, before any load (Postgres runs only). */
  dbRoundTrips?: DbRoundTrips;
  totalSeconds: number;
}

export interface Goal {
  goal: string;
  measured: string;
  pass: boolean | null;
}

export function machineInfo(pinned: boolean): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux
  }
  let nproc = cpus().length;
  try {
    // --all: this process may already be pinned to one core.
    nproc = Number(execFileSync('nproc', ['--all'], { encoding: 'utf8' }).trim());
  } catch {
    // no coreutils
  }
  let commit = 'unknown';
  let uncommittedSrcFiles = 0;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    uncommittedSrcFiles = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  } catch {
    // not a git checkout
  }
  return {
    commit,
    uncommittedSrcFiles,
    nproc,
    cpuModel,
    node: process.version,
    kernel: release(),
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    pinned,
    pinning: pinned ? 'gateway/proxy on CPU 1; load generator and mocks on CPU 0' : 'not pinned (no taskset or one core)',
  };
}

/** Added latency vs direct-to-mock, ratios vs the bare proxy, per scenario. */
export function derive(runs: RunRecord[]): void {
  const find = (target: TargetId, scenario: string) => runs.find((r) => r.target === target && r.scenario === scenario);
  for (const run of runs) {
    const direct = find('direct', run.scenario);
    if (direct && run.target !== 'direct') {
      run.added = {
        p50Ms: run.load.latencyMs.p50 - direct.load.latencyMs.p50,
        p99Ms: run.load.latencyMs.p99 - direct.load.latencyMs.p99,
        ...(run.load.ttfbMs && direct.load.ttfbMs
          ? { ttfbP50Ms: run.load.ttfbMs.p50 - direct.load.ttfbMs.p50, ttfbP99Ms: run.load.ttfbMs.p99 - direct.load.ttfbMs.p99 }
          : {}),
      };
    }
    const proxy = find('proxy', run.scenario);
    if (proxy && proxy.load.ok >= 20 && run.target.startsWith('gateway')) {
      run.vsProxy = { rps: run.load.rps / proxy.load.rps, cpuPer1k: run.server.cpuPer1k / proxy.server.cpuPer1k };
    }
  }
}

/** The issue's targets, measured on the Postgres gateway when it ran, else PGlite. */
export function goals(runs: RunRecord[], targets: TargetRecord[], scenarios: Scenario[], db?: DbRoundTrips): Goal[] {
  const gw: TargetId = runs.some((r) => r.target === 'gateway-postgres') ? 'gateway-postgres' : 'gateway-pglite';
  const on = gw === 'gateway-postgres' ? 'Postgres' : 'PGlite';
  const run = (s: string) => runs.find((r) => r.target === gw && r.scenario === s);
  const out: Goal[] = [];
  const c50 = run('json-c50-lat0');
  out.push({
    goal: `throughput, non-stream, 50 conns, ≥ 50% of bare proxy (${on})`,
    measured: c50?.vsProxy ? `${fmt(c50.load.rps, 0)} req/s = ${fmt(c50.vsProxy.rps * 100, 0)}% of proxy` : 'n/a',
    pass: c50?.vsProxy ? c50.vsProxy.rps >= 0.5 : null,
  });
  const c1 = run('json-c1-lat0');
  out.push({
    goal: `added latency at 1 conn: p50 ≤ 0.5 ms (${on})`,
    measured: c1?.added
      ? `${fmt(c1.added.p50Ms, 2)} ms` +
        (db && gw === 'gateway-postgres' ? ` (the reservation insert alone: ${fmt(db.reservationInsert.p50Ms, 2)} ms; into a bare table ${fmt(db.insertCommitted.p50Ms, 2)}, ${fmt(db.insertCommitted.p50Ms - db.insertUnflushed.p50Ms, 2)} of it the WAL flush)` : '')
      : 'n/a',
    pass: c1?.added ? c1.added.p50Ms <= 0.5 : null,
  });
  out.push({
    goal: `added latency at 1 conn: p99 ≤ 2 ms (${on})`,
    measured: c1?.added
      ? `${fmt(c1.added.p99Ms, 2)} ms` + (db && gw === 'gateway-postgres' ? ` (the reservation insert alone: ${fmt(db.reservationInsert.p99Ms, 2)} ms)` : '')
      : 'n/a',
    pass: c1?.added ? c1.added.p99Ms <= 2 : null,
  });
  const st1 = run('stream-c1-lat0');
  out.push({
    goal: `stream time to first byte adds ≤ 1 ms, p50 at 1 conn (${on})`,
    measured: st1?.added?.ttfbP50Ms !== undefined ? `${fmt(st1.added.ttfbP50Ms, 2)} ms (p99 ${fmt(st1.added.ttfbP99Ms!, 2)} ms)` : 'n/a',
    pass: st1?.added?.ttfbP50Ms !== undefined ? st1.added.ttfbP50Ms <= 1 : null,
  });
  const st = run('stream-c50-lat0');
  out.push({
    goal: `stream time to first byte adds ≤ 1 ms, p50 at 50 conns (${on})`,
    measured: st?.added?.ttfbP50Ms !== undefined ? `${fmt(st.added.ttfbP50Ms, 2)} ms (p99 ${fmt(st.added.ttfbP99Ms!, 2)} ms)` : 'n/a',
    pass: st?.added?.ttfbP50Ms !== undefined ? st.added.ttfbP50Ms <= 1 : null,
  });
  const fifty = new Set(scenarios.filter((s) => s.connections === 50 && s.upstream !== 'drip').map((s) => s.id));
  const scenarioPeak = Math.max(0, ...runs.filter((r) => r.target === gw && fifty.has(r.scenario)).map((r) => r.server.peakRssMb));
  // A process's first seconds under load count as much as its steady state: that peak is what an operator sizes for.
  const warmupPeak = targets.find((t) => t.target === gw)?.warmupPeakRssMb ?? 0;
  const peak = Math.max(scenarioPeak, warmupPeak);
  out.push({
    goal: `RSS under 50-connection load ≤ 150 MB (${on})`,
    measured: `${fmt(peak, 0)} MB peak` + (warmupPeak > 0 ? ` (measured scenarios ${fmt(scenarioPeak, 0)}, warm-up right after start ${fmt(warmupPeak, 0)})` : ''),
    pass: scenarioPeak > 0 ? peak <= 150 : null,
  });
  const drip = scenarios.find((s) => s.upstream === 'drip');
  const dripRun = drip && run(drip.id);
  if (drip && dripRun) {
    out.push({
      goal: `${drip.connections} concurrent slow streams, RSS ≤ 250 MB (${on})`,
      measured: `${fmt(dripRun.server.peakRssMb, 0)} MB peak, ${dripRun.load.non2xx + dripRun.load.errors + dripRun.load.mismatches} failed`,
      pass: dripRun.server.peakRssMb <= 250 && dripRun.load.non2xx + dripRun.load.errors + dripRun.load.mismatches === 0,
    });
  }
  // What a setting costs: CPU per request of the gateway with it against the gateway without it, scenario by scenario.
  for (const [variant, v] of Object.entries(GATEWAY_VARIANTS)) {
    for (const s of scenarios) {
      const base = run(s.id);
      const other = runs.find((r) => r.target === variant && r.scenario === s.id);
      if (!base || !other || !Number.isFinite(base.server.cpuPer1k) || !Number.isFinite(other.server.cpuPer1k)) continue;
      const { withIt, without, cost } = settingCost(variant as GatewayVariant, base.server.cpuPer1k, other.server.cpuPer1k);
      const pct = cost * 100;
      out.push({
        goal: `${v.cost}: CPU per request${v.limitPct === undefined ? '' : ` < +${v.limitPct} %`}, ${s.label} (${on})`,
        measured: `${signed(pct, 1)} % (${fmt(withIt, 3)} with, ${fmt(without, 3)} without, CPU s / 1k req)`,
        pass: v.limitPct === undefined ? null : pct < v.limitPct,
      });
    }
  }
  for (const t of targets.filter((t) => t.accounting)) {
    out.push({
      goal: `every reservation settled after shutdown (${TARGET_LABELS[t.target]})`,
      measured: `${t.accounting!.usageRows} usage rows, ${t.accounting!.unsettled} still reserved, ${t.accounting!.ledgerEntries} ledger entries`,
      pass: t.accounting!.unsettled === 0,
    });
  }
  return out;
}

export const fmt = (x: number | undefined, digits: number): string =>
  x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);

const signed = (x: number | undefined, digits: number): string =>
  x === undefined || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

const HEADER = [
  'Scenario',
  'Target',
  'req/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'added p50',
  'added p99',
  'TTFB p50',
  'added TTFB p50/p99',
  'CPU s / 1k req',
  'CPU cores',
  'drain s',
  'peak RSS MB',
  'non-2xx / err',
  '÷ proxy req/s',
  'Postgres CPU s / 1k',
  'other load, cores',
];

function row(r: RunRecord, scenarios: Scenario[]): string[] {
  const s = scenarios.find((x) => x.id === r.scenario)!;
  const bad = r.load.non2xx + r.load.errors + r.load.mismatches;
  return [
    s.label,
    TARGET_LABELS[r.target],
    fmt(r.load.rps, 0),
    fmt(r.load.latencyMs.p50, 2),
    fmt(r.load.latencyMs.p90, 2),
    fmt(r.load.latencyMs.p99, 2),
    signed(r.added?.p50Ms, 2),
    signed(r.added?.p99Ms, 2),
    r.load.ttfbMs ? fmt(r.load.ttfbMs.p50, 2) : '',
    r.added?.ttfbP50Ms !== undefined ? `${signed(r.added.ttfbP50Ms, 2)} / ${signed(r.added.ttfbP99Ms, 2)}` : '',
    fmt(r.server.cpuPer1k, 3),
    fmt(r.server.cores, 2),
    fmt(r.server.drainSeconds, 1),
    r.peakConnections !== undefined ? `${fmt(r.server.peakRssMb, 0)} (${r.peakConnections} conns)` : fmt(r.server.peakRssMb, 0),
    bad === 0 ? '0' : `${r.load.non2xx} / ${r.load.errors + r.load.mismatches}`,
    r.vsProxy ? `${fmt(r.vsProxy.rps * 100, 0)}%` : '',
    r.postgres ? fmt(r.postgres.cpuPer1k, 3) : '',
    fmt(r.otherCores, 2),
  ];
}

const machineLine = (report: BenchReport): string => {
  const m = report.machine;
  return `${report.date} · ${m.nproc} CPUs (${m.cpuModel}) · Node ${m.node} · Linux ${m.kernel} · ${m.memoryGb} GB${m.postgres ? ` · ${m.postgres}` : ''} · code at ${m.commit}${m.uncommittedSrcFiles ? ` + ${m.uncommittedSrcFiles} uncommitted files in src/` : ''}`;
};

function resultsTable(report: BenchReport): string[] {
  const lines = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const s of report.scenarios) {
    for (const r of report.runs.filter((x) => x.scenario === s.id)) lines.push(`| ${row(r, report.scenarios).join(' | ')} |`);
  }
  return lines;
}

const goalsTable = (report: BenchReport): string[] => [
  '| Target | Measured | Met |',
  '|---|---|---|',
  ...report.goals.map((g) => `| ${g.goal} | ${g.measured} | ${g.pass === null ? '–' : g.pass ? 'yes' : '**no**'} |`),
];

export function toMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`# Gateway benchmark`);
  lines.push('');
  lines.push(machineLine(report));
  lines.push('');
  lines.push(
    `Loopback, ${m.pinning}. ${report.settings.durationSeconds} s per scenario after a ${report.settings.warmupSeconds} s warm-up per target; ` +
      `streams carry ${report.settings.streamChunks} content chunks plus role, finish and usage chunks; "${report.settings.slowLatencyMs} ms upstream" scenarios add a fixed latency before the upstream answers; the ${report.scenarios.find((s) => s.upstream === 'drip')?.connections ?? 1000}-connection stream scenario has the upstream pause ${report.settings.dripIntervalMs} ms between chunks, to hold streams open. ` +
      `Latencies are client-side (autocannon, one request in flight per connection); "added" is over direct-to-mock in the same scenario. ` +
      `CPU is the server process's user+system time from /proc, from the start of a run until it is idle again (deferred settles included); ` +
      `"other load" is CPU used by everything else on the machine meanwhile (other users), the noise floor of that row.` +
      (report.settings.profiled ? ' **Profiled run (`--cpu-prof`): slower than normal.**' : ''),
  );
  lines.push('');
  lines.push(...resultsTable(report));
  lines.push('');
  lines.push('## Against the targets (issue 6)');
  lines.push('');
  lines.push(...goalsTable(report));
  lines.push('');
  const gws = report.targets.filter((t) => t.target.startsWith('gateway'));
  if (gws.length > 0) {
    lines.push('## Gateway memory through the run');
    lines.push('');
    for (const t of gws) {
      const curve = t.rssCurve;
      const step = Math.max(1, Math.ceil(curve.length / 24));
      const points = curve.filter((_, i) => i % step === 0 || i === curve.length - 1).map((p) => `${p.t.toFixed(0)}s ${p.mb.toFixed(0)}`);
      lines.push(`- ${TARGET_LABELS[t.target]}: after start ${fmt(t.startupRssMb, 0)} MB, at the end ${fmt(t.finalRssMb, 0)} MB; RSS MB over time: ${points.join(', ')}`);
    }
    lines.push('');
  }
  const db = report.dbRoundTrips;
  if (db) {
    lines.push('## The database alone (before any load, from the gateway\'s CPU)');
    lines.push('');
    lines.push(
      `One statement at a time on one connection, ${db.samples} each. The reservation row is the one committed write a client waits for, so its insert is the floor under the gateway's added latency on this machine. The bare table (a text key and three columns) shows how much of that is the round trip and the commit: with synchronous_commit off, which the gateway does not use, the commit skips the WAL flush to disk. The rest of the reservation's time is its row's indexes and foreign keys.`,
    );
    lines.push('');
    lines.push('| Statement | p50 ms | p99 ms |');
    lines.push('|---|---:|---:|');
    for (const [label, p] of [
      ['`SELECT 1` (the round trip)', db.select1],
      ['one-row `INSERT` into a bare table, committed', db.insertCommitted],
      ['one-row `INSERT`, synchronous_commit off', db.insertUnflushed],
      ['the reservation `INSERT` (usage_records), committed', db.reservationInsert],
    ] as const) {
      lines.push(`| ${label} | ${fmt(p.p50Ms, 3)} | ${fmt(p.p99Ms, 3)} |`);
    }
    lines.push('');
  }
  const withStats = report.targets.filter((t) => t.dbStats && t.accounting && t.accounting.usageRows > 0);
  if (withStats.length > 0) {
    lines.push('## Database work per request');
    lines.push('');
    for (const t of withStats) {
      const n = t.accounting!.usageRows;
      const st = t.dbStats!;
      const per = (x: number) => (x / n).toFixed(2);
      const tables = Object.entries(st.tables)
        .map(([name, c]) => `${name} ${[c.ins ? `${per(c.ins)} ins` : '', c.upd ? `${per(c.upd)} upd (${per(c.hot)} HOT)` : '', c.del ? `${per(c.del)} del` : ''].filter(Boolean).join(' ')}`)
        .join('; ');
      lines.push(`- ${TARGET_LABELS[t.target]}, over ${n} requests (pg_stat_database / pg_stat_user_tables): ${per(st.commits)} commits, ${per(st.rollbacks)} rollbacks; ${tables}`);
    }
    lines.push('');
  }
  const waits = report.runs.filter((r) => r.postgres?.activity);
  if (waits.length > 0) {
    lines.push('## Postgres sessions during the runs (pg_stat_activity every 50 ms)');
    lines.push('');
    lines.push('| Scenario | active | idle in transaction | waiting on a lock | samples with a lock wait | most frequent lock wait |');
    lines.push('|---|---:|---:|---:|---:|---|');
    for (const r of waits) {
      const a = r.postgres!.activity!;
      const s = report.scenarios.find((x) => x.id === r.scenario)!;
      const top = a.lockWaits[0];
      lines.push(
        `| ${s.label} | ${fmt(a.active, 2)} | ${fmt(a.idleInTransaction, 2)} | ${fmt(a.lockWaiters, 2)} | ${fmt(a.lockWaitShare * 100, 0)}% | ${top ? `${top.waitEvent}: \`${top.query.replace(/\|/g, '\\|')}\`` : ''} |`,
      );
    }
    lines.push('');
  }
  lines.push(`Total benchmark time ${fmt(report.totalSeconds, 0)} s. Raw numbers: \`test/bench/results/latest.json\`.`);
  return `${lines.join('\n')}\n`;
}

const README_START = '<!-- bench:latest (written by `npm run bench`; edit around it) -->';
const README_END = '<!-- /bench:latest -->';

/**
 * The README's copy of the latest full run (machine line, results table,
 * targets) between its markers, so it can only ever be one run's figures.
 * Undefined when the README has no markers.
 */
export function withReadmeBlock(readme: string, report: BenchReport): string | undefined {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) return undefined;
  const block = [README_START, `Latest run: ${machineLine(report)}.`, '', ...resultsTable(report), '', ...goalsTable(report), README_END].join('\n');
  return readme.slice(0, start) + block + readme.slice(end + README_END.length);
}

export function toConsole(report: BenchReport): string {
  const rows = report.scenarios.flatMap((s) => report.runs.filter((r) => r.scenario === s.id).map((r) => row(r, report.scenarios)));
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ''];
  for (const g of report.goals) out.push(`${g.pass === null ? ' – ' : g.pass ? 'ok ' : 'NO '} ${g.goal}: ${g.measured}`);
  return out.join('\n');
}
