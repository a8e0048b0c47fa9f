/**
 * `npm run bench`: the gateway's own overhead, side by side with a bare
 * proxy on the same HTTP stack and with the mock upstream called directly.
 *
 *   npm run bench                      # all targets (Postgres too when DATABASE_URL is set)
 *   npm run bench -- --profile         # gateway only, with --cpu-prof; prints the top functions
 *
 * Env: BENCH_DURATION (s per scenario, 7), BENCH_WARMUP (s per target, 3),
 * BENCH_TARGETS (direct,proxy,pglite,postgres), BENCH_STREAM_CHUNKS (20),
 * BENCH_SLOW_LATENCY_MS (50), BENCH_CONNECTIONS (50), BENCH_DRIP_CONNECTIONS (1000),
 * BENCH_DRIP_INTERVAL_MS (100, between the chunks of the slow streams), BENCH_PROFILE=1,
 * BENCH_QUIET_WAIT (s to wait before each scenario for other load on the machine to stop, 0),
 * BENCH_SCENARIOS (a subset of scenario ids, e.g. json-c1-lat0,stream-c50-lat0),
 * DATABASE_URL (base URL; a fresh gw_bench_* database is made and dropped).
 *
 * Everything listens on 127.0.0.1; every child stops with this process.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { request } from 'undici';
import { runLoad } from './load.js';
import {
  type Child,
  canPin,
  cpuSeconds,
  cpuSecondsByName,
  cpuTimes,
  establishedTo,
  freePort,
  loadAverage,
  pinPostgres,
  pinSelf,
  REPO_ROOT,
  RssWatch,
  rssMb,
  startChild,
  stopAll,
  systemBusySeconds,
} from './processes.js';
import { formatProfile, newestProfile, summarizeProfile } from './profile.js';
import {
  type BenchReport,
  derive,
  goals,
  machineInfo,
  type RunRecord,
  type Scenario,
  TARGET_LABELS,
  type TargetId,
  type TargetRecord,
  toConsole,
  type Upstream,
  toMarkdown,
} from './report.js';
import { type Activity, BENCH_MODELS, type BenchDatabase, setupDatabase, statsDelta } from './setup-gateway.js';

const num = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${v}"`);
  return n;
};

const PROFILE = process.argv.includes('--profile') || process.env.BENCH_PROFILE === '1';
const DURATION = num('BENCH_DURATION', 7);
const WARMUP = num('BENCH_WARMUP', 3);
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
// The direct-to-mock baseline varies little: half the time is enough.
const DIRECT_DURATION = Math.max(1, DURATION / 2);

const TARGETS: TargetId[] = (() => {
  const all = ['direct', 'proxy', 'pglite', 'postgres'];
  const fallback = PROFILE ? ['pglite', ...(DATABASE_URL ? ['postgres'] : [])] : ['direct', 'proxy', 'pglite', ...(DATABASE_URL ? ['postgres'] : [])];
  const asked = process.env.BENCH_TARGETS ? process.env.BENCH_TARGETS.split(',').map((s) => s.trim()).filter(Boolean) : fallback;
  for (const t of asked) if (!all.includes(t)) throw new Error(`BENCH_TARGETS: unknown target "${t}" (expected ${all.join(', ')})`);
  if (asked.includes('postgres') && !DATABASE_URL) throw new Error('BENCH_TARGETS includes postgres but DATABASE_URL is not set');
  return asked.map((t) => (t === 'pglite' || t === 'postgres' ? (`gateway-${t}` as TargetId) : (t as TargetId)));
})();

const ALL_SCENARIOS: Scenario[] = [
  { id: 'json-c1-lat0', label: 'non-stream, 1 conn', stream: false, connections: 1, upstream: 'fast' },
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

type Mocks = Record<Upstream, { child: Child; url: string }>;

/** What a target is driven with for a scenario. */
interface Endpoint {
  url: string;
  headers: Record<string, string>;
  body: (stream: boolean) => string;
}

const requestBody = (model: string) => (stream: boolean) =>
  JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a benchmark.' },
      { role: 'user', content: 'Say hello to the benchmark, briefly.' },
    ],
    max_tokens: 64,
    ...(stream ? { stream: true } : {}),
  });

/** Waits until the process has used no CPU for half a second; returns how long that took. */
async function quiesce(pid: number, maxMs = 6_000): Promise<number> {
  const started = performance.now();
  let last = cpuSeconds(pid);
  let calm = 0;
  while (performance.now() - started < maxMs) {
    await sleep(250);
    const now = cpuSeconds(pid);
    calm = now - last <= 0.025 ? calm + 1 : 0; // under 10% of a core (the profiler alone uses a few)
    last = now;
    if (calm >= 2) return Math.max(0, performance.now() - started - 500);
  }
  return performance.now() - started;
}

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

/** One request, checked, before any load: a broken setup fails here with the answer it got. */
async function check(endpoint: Endpoint, stream: boolean): Promise<void> {
  const res = await request(endpoint.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...endpoint.headers },
    body: endpoint.body(stream),
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  const text = await res.body.text();
  const ok = res.statusCode === 200 && (stream ? text.endsWith('data: [DONE]\n\n') && !text.includes('"error":') : text.includes('"choices"'));
  if (!ok) throw new Error(`check request to ${endpoint.url} (stream: ${stream}) answered ${res.statusCode}: ${text.slice(0, 600)}`);
}

async function startMocks(): Promise<Mocks> {
  const start = async (name: string, latency: number, chunkDelay: number, chunks = CHUNKS) => {
    const { child, port } = await startChild({
      name,
      script: 'test/bench/mock-upstream.ts',
      cpu: 0,
      env: { PORT: '0', MOCK_LATENCY_MS: String(latency), MOCK_CHUNKS: String(chunks), MOCK_CHUNK_DELAY_MS: String(chunkDelay) },
    });
    return { child, url: `http://127.0.0.1:${port}` };
  };
  const [fast, slow, drip] = await Promise.all([start('mock', 0, 0), start(`mock-${SLOW_MS}ms`, SLOW_MS, 0), start(`mock-drip`, 0, DRIP_MS, DRIP_CHUNKS)]);
  return { fast, slow, drip };
}

async function waitHealthy(url: string, child: Child, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited (code ${child.process.exitCode}):\n${child.tail()}`);
    try {
      const res = await request(`${url}/healthz`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name} did not become healthy in ${timeoutMs} ms:\n${child.tail()}`);
}

interface RunningTarget {
  server: Child;
  endpoint(upstream: Upstream): Endpoint;
  /** The server process measured in each scenario (direct: that mock). */
  serverPid(upstream: Upstream): number;
  /** Postgres only: what the database sessions wait for during a run. */
  watchActivity(): { stop(): Promise<Activity | undefined> };
  finish(): Promise<Partial<TargetRecord>>;
}

const cleanups: Array<() => Promise<void>> = [];
const noActivity = () => ({ stop: async () => undefined });

async function startTarget(target: TargetId, mocks: Mocks): Promise<RunningTarget> {
  if (target === 'direct') {
    return {
      server: mocks.fast.child,
      endpoint: (u) => ({ url: `${mocks[u].url}/v1/chat/completions`, headers: {}, body: requestBody('bench-upstream') }),
      serverPid: (u) => mocks[u].child.pid,
      watchActivity: noActivity,
      finish: async () => ({}),
    };
  }
  if (target === 'proxy') {
    const { child, port } = await startChild({
      name: 'bare-proxy',
      script: 'test/bench/bare-proxy.ts',
      cpu: 1,
      env: { PORT: '0', MOCK_FAST_URL: mocks.fast.url, MOCK_SLOW_URL: mocks.slow.url, MOCK_DRIP_URL: mocks.drip.url },
    });
    const base = `http://127.0.0.1:${port}`;
    return {
      server: child,
      endpoint: (u) => ({ url: `${base}${u === 'fast' ? '' : `/${u}`}/v1/chat/completions`, headers: {}, body: requestBody('bench-upstream') }),
      serverPid: () => child.pid,
      watchActivity: noActivity,
      finish: async () => {
        await child.stop(5_000);
        return {};
      },
    };
  }

  const kind = target === 'gateway-postgres' ? 'postgres' : 'pglite';
  log(`setting up ${kind} database`);
  const database: BenchDatabase = await setupDatabase({
    kind,
    databaseUrl: DATABASE_URL,
    upstreams: { fast: mocks.fast.url, slow: mocks.slow.url, drip: mocks.drip.url },
  });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await database.drop();
  };
  cleanups.push(drop);
  const port = await freePort();
  if (PROFILE) mkdirSync(PROFILE_DIR, { recursive: true });
  const profileStarted = Date.now();
  const base = `http://127.0.0.1:${port}`;
  let child: Child;
  try {
    ({ child } = await startChild({
      name: `gateway-${kind}`,
      script: 'src/main.ts',
      cpu: 1,
      env: { ...database.env, PORT: String(port), HOST: '127.0.0.1' },
      // No --cpu-prof-name: tsx's loader thread writes a profile too, and a fixed name would clash.
      nodeArgs: PROFILE ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [],
      ready: (c) => waitHealthy(base, c),
      readyTimeoutMs: 120_000,
    }));
  } catch (e) {
    await drop();
    throw e;
  }
  const headers = { authorization: `Bearer ${database.apiKey}` };
  const stats0 = await database.stats();
  return {
    server: child,
    endpoint: (u) => ({ url: `${base}/v1/chat/completions`, headers, body: requestBody(BENCH_MODELS[u]) }),
    serverPid: () => child.pid,
    watchActivity: () => database.watchActivity(),
    finish: async () => {
      log(`stopping ${child.name} (SIGTERM) at ${new Date().toISOString()}`);
      const code = await child.stop(60_000);
      if (code !== 0) log(`warning: ${child.name} exited with code ${code}:\n${child.tail()}`);
      const out: Partial<TargetRecord> = {};
      try {
        const stats1 = await database.stats();
        if (stats0 && stats1) out.dbStats = statsDelta(stats0, stats1);
        out.accounting = await database.accounting();
      } catch (e) {
        log(`warning: could not read back the accounting: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (PROFILE) {
        const file = newestProfile(PROFILE_DIR, profileStarted, child.pid);
        if (file) out.profile = file;
        else log(`warning: no .cpuprofile was written in ${PROFILE_DIR}`);
      }
      await drop();
      return out;
    },
  };
}

async function benchTarget(target: TargetId, mocks: Mocks, runs: RunRecord[]): Promise<TargetRecord> {
  log(`── ${TARGET_LABELS[target]}`);
  const running = await startTarget(target, mocks);
  const rssPid = running.serverPid('fast');
  const startupRssMb = rssMb(rssPid);
  const curveStart = performance.now();
  const rssCurve: TargetRecord['rssCurve'] = [];
  const curveTimer = setInterval(() => {
    try {
      rssCurve.push({ t: Math.round((performance.now() - curveStart) / 100) / 10, mb: Math.round(rssMb(rssPid) * 10) / 10 });
    } catch {
      // gone
    }
  }, 1000);
  let requestsSent = 0;
  let profileWindow: TargetRecord['profileWindow'];
  try {
    const upstreams = [...new Set(SCENARIOS.map((s) => s.upstream))];
    for (const stream of [false, true]) for (const u of upstreams) await check(running.endpoint(u), stream);
    requestsSent += 2 * upstreams.length;

    const warm = target === 'direct' ? Math.min(2, WARMUP) : WARMUP;
    if (warm > 0) {
      log(`warm-up ${warm} s`);
      const ep = running.endpoint('fast');
      const a = await runLoad({ url: ep.url, headers: ep.headers, body: ep.body(false), connections: CONNECTIONS, durationSeconds: warm * 0.7, stream: false });
      const b = await runLoad({ url: ep.url, headers: ep.headers, body: ep.body(true), connections: CONNECTIONS, durationSeconds: warm * 0.3, stream: true });
      requestsSent += a.ok + a.non2xx + b.ok + b.non2xx;
      await quiesce(running.serverPid('fast'));
    }

    const windowFrom = Number(process.hrtime.bigint() / 1000n);
    let measured = 0;
    for (const s of SCENARIOS) {
      const ep = running.endpoint(s.upstream);
      const pid = running.serverPid(s.upstream);
      const otherPids = target === 'direct' ? [] : Object.values(mocks).map((m) => m.child.pid);
      // The many-streams scenario is about memory with streams held open: a few rounds are enough.
      const duration = s.upstream === 'drip' ? Math.min(DURATION, 5) : target === 'direct' ? DIRECT_DURATION : DURATION;
      const onPostgres = target === 'gateway-postgres';
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
      const mock0 = otherPids.reduce((n, p) => n + cpuSeconds(p), 0);
      const load = await runLoad({ url: ep.url, headers: ep.headers, body: ep.body(s.stream), connections: s.connections, durationSeconds: duration, stream: s.stream });
      const cpuLoad = cpuSeconds(pid) - cpu0;
      const mockCpu = otherPids.reduce((n, p) => n + cpuSeconds(p), 0) - mock0;
      const pgLoad = onPostgres ? cpuSecondsByName('postgres') - pg0 : 0;
      const sysLoad = systemBusySeconds() - sys0;
      const pgActivity = await activity.stop();
      clearInterval(connTimer);
      const drainMs = await quiesce(pid);
      const cpuTotal = cpuSeconds(pid) - cpu0;
      const systemShare = cpuTotal > 0 ? (cpuTimes(pid).system - sys0pid) / cpuTotal : 0;
      const pgTotal = onPostgres ? cpuSecondsByName('postgres') - pg0 : 0;
      const mockCores = mockCpu / load.seconds;
      // Whatever else ran on the machine meanwhile (other users, tests): the noise floor.
      const otherCores = Math.max(0, (sysLoad - cpuLoad - mockCpu - pgLoad) / load.seconds - load.loadgenCpu);
      const peakRssMb = rss.stop();
      requestsSent += load.ok + load.non2xx + load.mismatches;
      measured += load.ok + load.non2xx + load.mismatches;
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
      runs.push(record);
      const bad = load.non2xx + load.errors + load.mismatches;
      log(
        `${s.label.padEnd(34)} ${load.rps.toFixed(0).padStart(6)} req/s  p50 ${load.latencyMs.p50.toFixed(2)}  p99 ${load.latencyMs.p99.toFixed(2)} ms` +
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
    }
    profileWindow = { fromUs: windowFrom, toUs: Number(process.hrtime.bigint() / 1000n), requests: measured };
  } finally {
    clearInterval(curveTimer);
  }
  const finalRssMb = rssMb(rssPid);
  const extra = await running.finish();
  return { target, startupRssMb, finalRssMb, rssCurve, requestsSent, ...extra, ...(extra.profile && profileWindow ? { profileWindow } : {}) };
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

async function main(): Promise<void> {
  const started = performance.now();
  const pinned = canPin && pinSelf(0);
  log(
    `targets: ${TARGETS.map((t) => TARGET_LABELS[t]).join(', ')}; ${DURATION} s per scenario, ${WARMUP} s warm-up` +
      `${pinned ? '; load generator on CPU 0, servers on CPU 1' : '; no pinning'}${PROFILE ? '; profiling the gateway' : ''}`,
  );
  const machine = machineInfo(pinned);
  if (TARGETS.includes('gateway-postgres')) {
    const version = await postgresVersion();
    if (version) machine.postgres = version;
    const restore = pinned && DATABASE_URL ? await pinPostgres(DATABASE_URL, 0) : undefined;
    if (restore) {
      cleanups.push(async () => restore());
      machine.pinning += '; the local Postgres server on CPU 0 too';
      log('Postgres server pinned to CPU 0 for the run');
    }
  }

  const mocks = await startMocks();
  const runs: RunRecord[] = [];
  const targets: TargetRecord[] = [];
  for (const target of TARGETS) targets.push(await benchTarget(target, mocks, runs));
  await Promise.all(Object.values(mocks).map((m) => m.child.stop(2_000)));

  derive(runs);
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine,
    settings: { durationSeconds: DURATION, warmupSeconds: WARMUP, streamChunks: CHUNKS, slowLatencyMs: SLOW_MS, dripIntervalMs: DRIP_MS, profiled: PROFILE },
    scenarios: SCENARIOS,
    runs,
    targets,
    goals: goals(runs, targets, SCENARIOS),
    totalSeconds: (performance.now() - started) / 1000,
  };

  const outDir = PROFILE ? PROFILE_DIR : RESULTS;
  const stem = PROFILE ? 'results' : 'latest';
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, `${stem}.md`), toMarkdown(report));
  process.stdout.write(`\n${toConsole(report)}\n\n`);
  log(`wrote ${join(outDir, `${stem}.json`)} and ${stem}.md`);

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
const MAX_SECONDS = num('BENCH_MAX_SECONDS', 900);
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

main()
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (err: unknown) => {
    process.stderr.write(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanup();
    process.exit(1);
  });
