/**
 * `npm run bench`: the gateway's own overhead, side by side with a bare
 * proxy on the same HTTP stack and with the mock upstream called directly.
 *
 *   npm run bench                      # all targets (Postgres too when DATABASE_URL is set)
 *   npm run bench -- --profile         # gateway only, with --cpu-prof; prints the top functions
 *   npm run bench -- --alloc           # gateway only, sampling what each request allocates (garbage included)
 *   npm run bench -- --soak            # one gateway under steady mixed load for 5 minutes: the RSS curve (soak.ts)
 *
 * Env: BENCH_DURATION (s per scenario, 6), BENCH_WARMUP (s per gateway target, 15; the proxy 3, direct 2), BENCH_REWARM (s of unmeasured load on a gateway before each scenario, 0.5),
 * BENCH_TARGETS (direct,proxy,pglite,postgres,nometrics,tracing; also accesslog: see GATEWAY_VARIANTS in report.ts), BENCH_STREAM_CHUNKS (20),
 * BENCH_SLOW_LATENCY_MS (50), BENCH_CONNECTIONS (50), BENCH_DRIP_CONNECTIONS (1000),
 * BENCH_DRIP_INTERVAL_MS (100, between the chunks of the slow streams), BENCH_PROFILE=1,
 * BENCH_QUIET_WAIT (s to wait before each scenario for other load on the machine to stop, 0),
 * BENCH_SCENARIOS (a subset of scenario ids, e.g. json-c1-lat0,stream-c50-lat0),
 * DATABASE_URL (base URL; a fresh gw_bench_* database is made and dropped),
 * BENCH_CHILD_LOG_DIR (append every child's whole output to <dir>/<name>.log),
 * BENCH_GATEWAY_NODE_ARGS (extra Node flags for the gateway, e.g. "--max-semi-space-size=8"),
 * BENCH_PG_SQL (SQL run on the fresh Postgres database before any load, for trying a schema change),
 * BENCH_SOAK=1 (same as --soak), BENCH_SOAK_SECONDS (300), BENCH_SOAK_WARMUP (30), BENCH_SOAK_PROMPTS (varied: a new user message every request; fixed: the bench's one prompt).
 *
 * Everything listens on 127.0.0.1; every child stops with this process.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { formatAlloc, summarizeAlloc } from './alloc-report.js';
import { measureDbRoundTrips } from './db-round-trips.js';
import { runLoad } from './load.js';
import {
  canPin,
  compiledPreload,
  cpuSeconds,
  cpuSecondsByName,
  cpuTimes,
  establishedTo,
  loadAverage,
  pinPostgres,
  pinSelf,
  REPO_ROOT,
  RssWatch,
  rssMb,
  stopAll,
  systemBusySeconds,
} from './processes.js';
import { formatProfile, newestProfile, summarizeProfile } from './profile.js';
import { PROMPT_MODES, type PromptMode } from './prompts.js';
import {
  type BenchReport,
  derive,
  goals,
  isGatewayVariant,
  type Machine,
  machineInfo,
  type RunRecord,
  type Scenario,
  TARGET_LABELS,
  type TargetId,
  type TargetRecord,
  toConsole,
  toMarkdown,
  withReadmeBlock,
} from './report.js';
import { runSoak } from './soak.js';
import { soakMarkdown, soakSvg } from './soak-report.js';
import { type Mocks, check, quiesce, startMocks, startTarget, type TargetOptions } from './targets.js';

const num = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${v}"`);
  return n;
};

/** Extra Node flags for the gateway (space-separated), to try V8 or allocator settings without a rebuild. */
const EXTRA_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
const PROFILE = process.argv.includes('--profile') || process.env.BENCH_PROFILE === '1';
const ALLOC = process.argv.includes('--alloc') || process.env.BENCH_ALLOC === '1';
const DURATION = num('BENCH_DURATION', 6);
// The gateway keeps getting faster for ~15 s of load (JIT tiers and heap sizing: 1,040 req/s after a
// 3 s warm-up, 1,410 after 15 s, 1,455 after 30 s at 50 connections); the bare proxy, measured the
// same way, does not change (3,790 vs 3,735 req/s), so it and direct-to-mock keep a short one.
const WARMUP = num('BENCH_WARMUP', 15);
const SHORT_WARMUP = 3;
/** Seconds of unmeasured load on a gateway right before each of its scenarios. */
const REWARM = num('BENCH_REWARM', 0.5);
const CHUNKS = num('BENCH_STREAM_CHUNKS', 20);
const SLOW_MS = num('BENCH_SLOW_LATENCY_MS', 50);
const CONNECTIONS = num('BENCH_CONNECTIONS', 50);
const DRIP_CONNECTIONS = num('BENCH_DRIP_CONNECTIONS', 1000);
const DRIP_MS = num('BENCH_DRIP_INTERVAL_MS', 100);
// Slow streams of ~1.3 s, so several rounds fit in the scenario even on a busy machine.
const DRIP_CHUNKS = 10;
const DATABASE_URL = process.env.DATABASE_URL?.trim() || undefined;
/** On a shared machine: wait up to this many seconds before each scenario for other load to go away. */
const QUIET_WAIT = num('BENCH_QUIET_WAIT', 0);
const RESULTS = join(REPO_ROOT, 'test/bench/results');
const PROFILE_DIR = join(RESULTS, 'profile');
const ALLOC_DIR = join(RESULTS, 'alloc');
/** A diagnosis, not the project's figures: gateways only by default, results beside the committed ones. */
const DIAGNOSIS = PROFILE || ALLOC;
// The direct-to-mock baseline varies little: half the time is enough.
const DIRECT_DURATION = Math.max(1, DURATION / 2);

/** What a plain `npm run bench` runs: the baselines, both databases, and the gateway with metrics off for their cost. */
const FULL_RUN_TARGETS = ['direct', 'proxy', 'pglite', ...(DATABASE_URL ? ['postgres'] : []), 'nometrics', 'tracing'];

const TARGETS: TargetId[] = (() => {
  const all = ['direct', 'proxy', 'pglite', 'postgres', 'nometrics', 'accesslog', 'tracing'];
  const fallback = DIAGNOSIS ? ['pglite', ...(DATABASE_URL ? ['postgres'] : [])] : [...FULL_RUN_TARGETS];
  const asked = process.env.BENCH_TARGETS ? process.env.BENCH_TARGETS.split(',').map((s) => s.trim()).filter(Boolean) : fallback;
  for (const t of asked) if (!all.includes(t)) throw new Error(`BENCH_TARGETS: unknown target "${t}" (expected ${all.join(', ')})`);
  if (asked.includes('postgres') && !DATABASE_URL) throw new Error('BENCH_TARGETS includes postgres but DATABASE_URL is not set');
  return asked.map((t) => (t === 'direct' || t === 'proxy' ? t : (`gateway-${t}` as TargetId)));
})();

const ALL_SCENARIOS: Scenario[] = [
  { id: 'json-c1-lat0', label: 'non-stream, 1 conn', stream: false, connections: 1, upstream: 'fast' },
  // Time to first byte without queueing: at 50 connections a saturated target's TTFB is mostly its queue.
  { id: 'stream-c1-lat0', label: 'stream, 1 conn', stream: true, connections: 1, upstream: 'fast' },
  { id: `json-c${CONNECTIONS}-lat0`, label: `non-stream, ${CONNECTIONS} conns`, stream: false, connections: CONNECTIONS, upstream: 'fast' },
  { id: `stream-c${CONNECTIONS}-lat0`, label: `stream, ${CONNECTIONS} conns`, stream: true, connections: CONNECTIONS, upstream: 'fast' },
  { id: `json-c1-lat${SLOW_MS}`, label: `non-stream, 1 conn, ${SLOW_MS} ms upstream`, stream: false, connections: 1, upstream: 'slow' },
  { id: `json-c${CONNECTIONS}-lat${SLOW_MS}`, label: `non-stream, ${CONNECTIONS} conns, ${SLOW_MS} ms upstream`, stream: false, connections: CONNECTIONS, upstream: 'slow' },
  { id: `stream-c${CONNECTIONS}-lat${SLOW_MS}`, label: `stream, ${CONNECTIONS} conns, ${SLOW_MS} ms upstream`, stream: true, connections: CONNECTIONS, upstream: 'slow' },
  // Memory per open stream: many slow streams open at once.
  {
    id: `stream-c${DRIP_CONNECTIONS}-drip${DRIP_MS}`,
    label: `stream, ${DRIP_CONNECTIONS} conns, a chunk every ${DRIP_MS} ms`,
    stream: true,
    connections: DRIP_CONNECTIONS,
    upstream: 'drip',
  },
];

const SOAK = process.argv.includes('--soak') || process.env.BENCH_SOAK === '1';
const SOAK_SECONDS = num('BENCH_SOAK_SECONDS', 300);
// Long enough for the JIT, the connection pools and the caches to settle before the first compared minute.
const SOAK_WARMUP = num('BENCH_SOAK_WARMUP', 30);
const SOAK_HEAPSNAPSHOTS = process.env.BENCH_SOAK_HEAPSNAPSHOTS === '1';
const SOAK_PROMPTS = ((v = process.env.BENCH_SOAK_PROMPTS ?? 'varied'): PromptMode => {
  const mode = PROMPT_MODES.find((m) => m === v);
  if (!mode) throw new Error(`BENCH_SOAK_PROMPTS: expected ${PROMPT_MODES.join(' or ')}, got "${v}"`);
  return mode;
})();
/** The soak drives one gateway: BENCH_TARGETS may name it, else Postgres when DATABASE_URL is set. */
const SOAK_TARGET = ((): 'gateway-pglite' | 'gateway-postgres' => {
  if (!process.env.BENCH_TARGETS) return DATABASE_URL ? 'gateway-postgres' : 'gateway-pglite';
  const gateways = TARGETS.filter((t): t is 'gateway-pglite' | 'gateway-postgres' => t.startsWith('gateway'));
  if (SOAK && gateways.length !== 1) throw new Error('--soak drives one gateway: BENCH_TARGETS must name exactly one of pglite, postgres');
  return gateways[0] ?? 'gateway-pglite';
})();

const SCENARIOS: Scenario[] = (() => {
  const asked = process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!asked) return ALL_SCENARIOS;
  for (const id of asked) {
    if (!ALL_SCENARIOS.some((s) => s.id === id)) throw new Error(`BENCH_SCENARIOS: unknown scenario "${id}" (expected ${ALL_SCENARIOS.map((s) => s.id).join(', ')})`);
  }
  return ALL_SCENARIOS.filter((s) => asked.includes(s.id));
})();

const log = (msg: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits (at most `maxSeconds`) until the machine's CPU use stays under 0.3 cores for 2 s. */
async function waitQuiet(maxSeconds: number): Promise<number> {
  if (maxSeconds <= 0) return 0;
  const started = performance.now();
  let calm = 0;
  let last = systemBusySeconds();
  while (performance.now() - started < maxSeconds * 1000) {
    await sleep(500);
    const now = systemBusySeconds();
    calm = now - last < 0.15 ? calm + 1 : 0;
    last = now;
    if (calm >= 4) break;
  }
  return (performance.now() - started) / 1000;
}

const cleanups: Array<() => Promise<void>> = [];
if (ALLOC) {
  mkdirSync(ALLOC_DIR, { recursive: true });
  process.env.BENCH_ALLOC_DIR = ALLOC_DIR; // the gateway inherits it: where alloc-sampler.ts writes
}
const gatewayNodeArgs = [
  ...EXTRA_NODE_ARGS,
  ...(ALLOC ? ['--import', compiledPreload(new URL('./alloc-sampler.ts', import.meta.url).href)] : []),
  // No --cpu-prof-name: tsx's loader thread writes a profile too, and a fixed name would clash.
  ...(PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []),
];
const targetOptions: TargetOptions = {
  databaseUrl: DATABASE_URL,
  log,
  onCleanup: (fn) => cleanups.push(fn),
  ...(gatewayNodeArgs.length > 0 ? { gatewayNodeArgs } : {}),
  ...(PROFILE ? { findProfile: (since: number, pid: number) => newestProfile(PROFILE_DIR, since, pid) } : {}),
};

const allocRounds = new Map<number, number>();
/**
 * Samples what the gateway allocates while `drive` runs (alloc-sampler.ts in
 * the gateway, toggled by SIGUSR2) and writes the summary per request.
 */
async function sampleAllocations<T extends { ok: number; non2xx: number }>(pid: number, name: string, drive: () => Promise<T>): Promise<T> {
  const count = (allocRounds.get(pid) ?? 0) + 1;
  allocRounds.set(pid, count);
  const file = join(ALLOC_DIR, `${pid}-${count}.heapprofile`);
  process.kill(pid, 'SIGUSR2');
  const result = await drive();
  process.kill(pid, 'SIGUSR2');
  const deadline = performance.now() + 30_000;
  while (!existsSync(file)) {
    if (performance.now() > deadline) throw new Error(`no allocation profile at ${file} after 30 s`);
    await sleep(100);
  }
  const text = formatAlloc(summarizeAlloc(file, result.ok + result.non2xx));
  writeFileSync(join(ALLOC_DIR, `${name}.txt`), `${text}\n`);
  log(`${text.split('\n')[0]!} → ${join(ALLOC_DIR, `${name}.txt`)}`);
  return result;
}

/** A target started, checked and warmed up, measured scenario by scenario alongside the others. */
interface Prepared {
  target: TargetId;
  running: Awaited<ReturnType<typeof startTarget>>;
  rssPid: number;
  startupRssMb: number;
  rssCurve: TargetRecord['rssCurve'];
  warmupPeakRssMb?: number;
  curveTimer: NodeJS.Timeout;
  requestsSent: number;
  measured: number;
}

async function prepareTarget(target: TargetId, mocks: Mocks): Promise<Prepared> {
  log(`── ${TARGET_LABELS[target]}`);
  if (PROFILE) mkdirSync(PROFILE_DIR, { recursive: true });
  const running = await startTarget(target, mocks, targetOptions);
  const rssPid = running.serverPid('fast');
  const curveStart = performance.now();
  const rssCurve: TargetRecord['rssCurve'] = [];
  const curveTimer = setInterval(() => {
    try {
      rssCurve.push({ t: Math.round((performance.now() - curveStart) / 100) / 10, mb: Math.round(rssMb(rssPid) * 10) / 10 });
    } catch {
      // gone
    }
  }, 1000);
  const p: Prepared = { target, running, rssPid, startupRssMb: rssMb(rssPid), rssCurve, curveTimer, requestsSent: 0, measured: 0 };
  const upstreams = [...new Set(SCENARIOS.map((s) => s.upstream))];
  for (const stream of [false, true]) for (const u of upstreams) await check(running.endpoint(u), stream);
  p.requestsSent += 2 * upstreams.length;

  const warm = target === 'direct' ? Math.min(2, WARMUP) : target === 'proxy' ? Math.min(SHORT_WARMUP, WARMUP) : WARMUP;
  if (warm > 0) {
    log(`warm-up ${warm} s`);
    const ep = running.endpoint('fast');
    // The warm-up is 50-connection load too, on a freshly started process: the RSS goal counts its peak.
    const rss = new RssWatch(rssPid);
    const a = await runLoad({ url: ep.url, headers: ep.headers, body: ep.body(false), connections: CONNECTIONS, durationSeconds: warm * 0.7, stream: false });
    const b = await runLoad({ url: ep.url, headers: ep.headers, body: ep.body(true), connections: CONNECTIONS, durationSeconds: warm * 0.3, stream: true });
    p.requestsSent += a.ok + a.non2xx + b.ok + b.non2xx;
    p.warmupPeakRssMb = rss.stop();
    await quiesce(running.serverPid('fast'));
  }
  return p;
}

async function measureScenario(p: Prepared, s: Scenario, mocks: Mocks): Promise<RunRecord> {
  const { target, running } = p;
  const ep = running.endpoint(s.upstream);
  const pid = running.serverPid(s.upstream);
  const otherPids = target === 'direct' ? [] : Object.values(mocks).map((m) => m.child.pid);
  // The many-streams scenario is about memory with streams held open: a few rounds are enough.
  const duration = s.upstream === 'drip' ? Math.min(DURATION, 5) : target === 'direct' ? DIRECT_DURATION : DURATION;
  const onPostgres = target === 'gateway-postgres' || (isGatewayVariant(target) && DATABASE_URL !== undefined);
  const drive = (seconds: number) =>
    runLoad({ url: ep.url, headers: ep.headers, body: ep.body(s.stream), connections: s.connections, durationSeconds: seconds, stream: s.stream });
  // A gateway that sat idle while the other targets ran has had V8's memory reducer shrink its heap
  // (after ~8 s idle): half a second of this scenario's own load, unmeasured, brings it back to steady state.
  if (target.startsWith('gateway') && s.upstream !== 'drip' && REWARM > 0) {
    const r = await drive(REWARM);
    p.requestsSent += r.ok + r.non2xx + r.mismatches;
    await quiesce(pid);
  }
  const waited = await waitQuiet(QUIET_WAIT);
  if (waited >= QUIET_WAIT && QUIET_WAIT > 0) log(`the machine stayed busy for ${QUIET_WAIT} s: measuring anyway`);
  const rss = new RssWatch(pid);
  const loadAvg = loadAverage();
  const sys0 = systemBusySeconds();
  const pg0 = onPostgres ? cpuSecondsByName('postgres') : 0;
  const activity = running.watchActivity();
  // Many connections: how many the server really held open at once.
  let peakConnections = 0;
  const port = Number(new URL(ep.url).port);
  const connTimer = s.connections >= 100 ? setInterval(() => (peakConnections = Math.max(peakConnections, establishedTo(port))), 200) : undefined;
  const cpu0 = cpuSeconds(pid);
  const sys0pid = cpuTimes(pid).system;
  const mock0 = otherPids.reduce((n, q) => n + cpuSeconds(q), 0);
  const load = ALLOC && target.startsWith('gateway') ? await sampleAllocations(pid, `${target}-${s.id}`, () => drive(duration)) : await drive(duration);
  const cpuLoad = cpuSeconds(pid) - cpu0;
  const mockCpu = otherPids.reduce((n, q) => n + cpuSeconds(q), 0) - mock0;
  const pgLoad = onPostgres ? cpuSecondsByName('postgres') - pg0 : 0;
  const sysLoad = systemBusySeconds() - sys0;
  const pgActivity = await activity.stop();
  clearInterval(connTimer);
  const drainMs = await quiesce(pid);
  const cpuTotal = cpuSeconds(pid) - cpu0;
  const systemShare = cpuTotal > 0 ? (cpuTimes(pid).system - sys0pid) / cpuTotal : 0;
  const pgTotal = onPostgres ? cpuSecondsByName('postgres') - pg0 : 0;
  const mockCores = mockCpu / load.seconds;
  // Whatever else ran on the machine meanwhile (other users, tests, the other targets' timers): the noise floor.
  const otherCores = Math.max(0, (sysLoad - cpuLoad - mockCpu - pgLoad) / load.seconds - load.loadgenCpu);
  const peakRssMb = rss.stop();
  p.requestsSent += load.ok + load.non2xx + load.mismatches;
  p.measured += load.ok + load.non2xx + load.mismatches;
  const record: RunRecord = {
    target,
    scenario: s.id,
    load,
    server: {
      cpuSeconds: cpuTotal,
      // Per-request figures need enough requests to mean anything.
      cpuPer1k: load.ok >= 20 ? cpuTotal / (load.ok / 1000) : NaN,
      cores: cpuLoad / load.seconds,
      drainSeconds: drainMs / 1000,
      peakRssMb,
      systemShare,
    },
    mockCores,
    otherCores,
    ...(connTimer ? { peakConnections } : {}),
    loadAvg,
    ...(onPostgres
      ? { postgres: { cores: pgLoad / load.seconds, cpuPer1k: load.ok >= 20 ? pgTotal / (load.ok / 1000) : NaN, ...(pgActivity ? { activity: pgActivity } : {}) } }
      : {}),
  };
  const bad = load.non2xx + load.errors + load.mismatches;
  log(
    `${s.label.padEnd(34)} ${TARGET_LABELS[target].padEnd(18)} ${load.rps.toFixed(0).padStart(6)} req/s  p50 ${load.latencyMs.p50.toFixed(2)}  p99 ${load.latencyMs.p99.toFixed(2)} ms` +
      (load.ttfbMs ? `  ttfb p50 ${load.ttfbMs.p50.toFixed(2)}` : '') +
      (connTimer ? `  ${peakConnections} conns open at peak` : '') +
      `  cpu ${record.server.cpuPer1k.toFixed(3)} s/1k (${(systemShare * 100).toFixed(0)}% sys)  ${record.server.cores.toFixed(2)} cores  rss ${peakRssMb.toFixed(0)} MB` +
      (bad ? `  non-2xx ${load.non2xx} err ${load.errors} bad-body ${load.mismatches} ${JSON.stringify(load.statusCodes)}` : '') +
      (record.postgres
        ? `  postgres ${record.postgres.cores.toFixed(2)} cores` +
          (pgActivity ? ` (sessions: ${pgActivity.active.toFixed(1)} active, ${pgActivity.idleInTransaction.toFixed(1)} idle in tx, ${pgActivity.lockWaiters.toFixed(2)} waiting on locks)` : '')
        : '') +
      `  loadgen ${load.loadgenCpu.toFixed(2)} + mock ${mockCores.toFixed(2)} cores, others ${otherCores.toFixed(2)} cores`,
  );
  return record;
}

async function finishTarget(p: Prepared, window: { fromUs: number; toUs: number }): Promise<TargetRecord> {
  clearInterval(p.curveTimer);
  const finalRssMb = rssMb(p.rssPid);
  const extra = await p.running.finish();
  const { target, startupRssMb, warmupPeakRssMb, rssCurve, requestsSent } = p;
  return { target, startupRssMb, warmupPeakRssMb, finalRssMb, rssCurve, requestsSent, ...extra, ...(extra.profile ? { profileWindow: { ...window, requests: p.measured } } : {}) };
}

async function postgresVersion(): Promise<string | undefined> {
  if (!DATABASE_URL) return undefined;
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<Array<{ v: string }>>`select current_setting('server_version') as v`;
    return `PostgreSQL ${row?.v ?? '?'}`;
  } finally {
    await sql.end();
  }
}

/** Pins the load generator (and a local Postgres) and describes the machine: the same for the bench and the soak. */
async function prepareMachine(targets: TargetId[]): Promise<Machine> {
  const pinned = canPin && pinSelf(0);
  const machine = machineInfo(pinned);
  if (targets.includes('gateway-postgres')) {
    const version = await postgresVersion();
    if (version) machine.postgres = version;
    const restore = pinned && DATABASE_URL ? await pinPostgres(DATABASE_URL, 0) : undefined;
    if (restore) {
      cleanups.push(async () => restore());
      machine.pinning += '; the local Postgres server on CPU 0 too';
      log('Postgres server pinned to CPU 0 for the run');
    }
  }
  return machine;
}

async function soak(): Promise<void> {
  const machine = await prepareMachine([SOAK_TARGET]);
  const report = await runSoak({
    target: SOAK_TARGET,
    seconds: SOAK_SECONDS,
    warmupSeconds: SOAK_WARMUP,
    connections: CONNECTIONS,
    mocks: { chunks: CHUNKS, slowMs: SLOW_MS, dripMs: DRIP_MS, dripChunks: DRIP_CHUNKS },
    targets: targetOptions,
    machine,
    log,
    prompts: SOAK_PROMPTS,
    ...(SOAK_HEAPSNAPSHOTS ? { heapSnapshotDir: mkdtempSync(join(tmpdir(), 'gw-soak-heap-')) } : {}),
  });
  // A run with snapshots is a diagnosis, not the soak's figure: its files go beside, not over, the committed ones.
  const stem = SOAK_HEAPSNAPSHOTS ? 'soak-heap' : 'soak';
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(RESULTS, `${stem}.svg`), soakSvg(report));
  const md = soakMarkdown(report, stem);
  writeFileSync(join(RESULTS, `${stem}.md`), md);
  process.stdout.write(`\n${md}\n`);
  log(`wrote ${join(RESULTS, `${stem}.{md,json,svg}`)}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine = await prepareMachine(TARGETS);
  log(
    `targets: ${TARGETS.map((t) => TARGET_LABELS[t]).join(', ')}; ${DURATION} s per scenario, ${WARMUP} s warm-up` +
      `${machine.pinned ? '; load generator on CPU 0, servers on CPU 1' : '; no pinning'}${PROFILE ? '; profiling the gateway' : ''}`,
  );

  // Before any load, from the gateway's CPU: the database's own floor under the added latency.
  const dbRoundTrips = DATABASE_URL && TARGETS.includes('gateway-postgres') ? await measureDbRoundTrips(DATABASE_URL, 1) : undefined;
  if (dbRoundTrips) {
    const f = (p: { p50Ms: number; p99Ms: number }) => `p50 ${p.p50Ms.toFixed(3)} / p99 ${p.p99Ms.toFixed(3)} ms`;
    log(`database round trips: SELECT 1 ${f(dbRoundTrips.select1)}; committed insert ${f(dbRoundTrips.insertCommitted)}; unflushed insert ${f(dbRoundTrips.insertUnflushed)}; reservation insert ${f(dbRoundTrips.reservationInsert)}`);
  }

  const mocks = await startMocks({ chunks: CHUNKS, slowMs: SLOW_MS, dripMs: DRIP_MS, dripChunks: DRIP_CHUNKS });
  const runs: RunRecord[] = [];
  // Every target is up for the whole run and each scenario runs on all of them back to back, so a
  // ratio compares seconds-apart windows: this host's speed drifts over minutes (see the README).
  const prepared: Prepared[] = [];
  for (const target of TARGETS) prepared.push(await prepareTarget(target, mocks));
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  for (const s of SCENARIOS) for (const p of prepared) runs.push(await measureScenario(p, s, mocks));
  const window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
  const targets: TargetRecord[] = [];
  for (const p of prepared) targets.push(await finishTarget(p, window));
  await Promise.all(Object.values(mocks).map((m) => m.child.stop(2_000)));

  derive(runs);
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine,
    settings: { durationSeconds: DURATION, warmupSeconds: WARMUP, streamChunks: CHUNKS, slowLatencyMs: SLOW_MS, dripIntervalMs: DRIP_MS, profiled: PROFILE },
    scenarios: SCENARIOS,
    runs,
    targets,
    goals: goals(runs, targets, SCENARIOS, dbRoundTrips),
    ...(dbRoundTrips ? { dbRoundTrips } : {}),
    totalSeconds: (performance.now() - started) / 1000,
  };

  const outDir = PROFILE ? PROFILE_DIR : ALLOC ? ALLOC_DIR : RESULTS;
  const stem = DIAGNOSIS ? 'results' : 'latest';
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, `${stem}.md`), toMarkdown(report));
  process.stdout.write(`\n${toConsole(report)}\n\n`);
  log(`wrote ${join(outDir, `${stem}.json`)} and ${stem}.md`);
  // Only a full run stands for the project: subsets and profiled runs are experiments.
  if (!DIAGNOSIS && DATABASE_URL && TARGETS.length === FULL_RUN_TARGETS.length && SCENARIOS.length === ALL_SCENARIOS.length) {
    const readmePath = join(REPO_ROOT, 'test', 'bench', 'README.md');
    const readme = withReadmeBlock(readFileSync(readmePath, 'utf8'), report);
    if (readme) {
      writeFileSync(readmePath, readme);
      log('updated the latest run in test/bench/README.md');
    }
  }

  for (const t of targets) {
    if (!t.profile) continue;
    const summary = summarizeProfile(t.profile, 20, t.profileWindow);
    const text = formatProfile(summary, 20, t.profileWindow?.requests);
    const name = `top-${t.target}.txt`;
    writeFileSync(join(PROFILE_DIR, name), `${text}\n`);
    process.stdout.write(`\n${TARGET_LABELS[t.target]}\n${text}\n`);
    log(`profile summary in ${join(PROFILE_DIR, name)}`);
  }
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

async function cleanup(): Promise<void> {
  await stopAll();
  for (const c of cleanups) {
    try {
      await c();
    } catch (e) {
      log(`cleanup failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

// A hard ceiling, whatever happens: nothing the benchmark started outlives it.
const MAX_SECONDS = num('BENCH_MAX_SECONDS', SOAK ? Math.max(900, SOAK_WARMUP + SOAK_SECONDS + 300) : 900);
// The children's own watchdog (watchdog.ts) must outlast a long soak too.
process.env.BENCH_CHILD_MAX_SECONDS ??= String(MAX_SECONDS);
setTimeout(() => {
  log(`still running after ${MAX_SECONDS} s (BENCH_MAX_SECONDS): giving up`);
  void cleanup().finally(() => process.exit(1));
}, MAX_SECONDS * 1000).unref();

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

(SOAK ? soak() : main())
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    process.stderr.write(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanup();
    process.exit(1);
  });
