/**
 * The processes a benchmark drives, started the same way for the scenario
 * bench and the soak: the mock upstreams, the bare proxy, and the gateway
 * on a freshly set-up database (a `pk_live_` key, real accounting). Each
 * comes back with its endpoints and a `finish()` that stops it and, for the
 * gateway, reads back the accounting before the database is dropped.
 */
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { type Child, cpuSeconds, freePort, startChild } from './processes.js';
import type { Prompt } from './prompts.js';
import { GATEWAY_VARIANTS, isGatewayVariant, OTLP_SINK_URL, type TargetId, type TargetRecord, type Upstream } from './report.js';
import { type Activity, BENCH_MODELS, type BenchDatabase, setupDatabase, statsDelta } from './setup-gateway.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export type Mocks = Record<Upstream, { child: Child; url: string }>;

/** What a target is driven with for a scenario. */
export interface Endpoint {
  url: string;
  headers: Record<string, string>;
  /** The request body; the benchmark's fixed prompt unless one is given. */
  body: (stream: boolean, prompt?: Prompt) => string;
}

export interface RunningTarget {
  server: Child;
  endpoint(upstream: Upstream): Endpoint;
  /** The server process measured in each scenario (direct: that mock). */
  serverPid(upstream: Upstream): number;
  /** Postgres only: what the database sessions wait for during a run. */
  watchActivity(): { stop(): Promise<Activity | undefined> };
  finish(): Promise<Partial<TargetRecord>>;
}

export interface MockOptions {
  chunks: number;
  slowMs: number;
  dripMs: number;
  dripChunks: number;
}

export interface TargetOptions {
  databaseUrl: string | undefined;
  log: (msg: string) => void;
  /** Called with what must run however the benchmark ends (dropping the database). */
  onCleanup: (fn: () => Promise<void>) => void;
  /** Extra node flags for the gateway (--cpu-prof, --trace-gc). */
  gatewayNodeArgs?: string[];
  /** With --cpu-prof: where the profile is looked for after the gateway stops. */
  findProfile?: (since: number, pid: number) => string | undefined;
}

const FIXED_PROMPT: Prompt = { system: 'You are a benchmark.', user: 'Say hello to the benchmark, briefly.' };

export const requestBody =
  (model: string) =>
  (stream: boolean, prompt: Prompt = FIXED_PROMPT) =>
    JSON.stringify({
      model,
      messages: [
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ],
      max_tokens: 64,
      ...(stream ? { stream: true } : {}),
    });

/** Waits until the process has used no CPU for half a second; returns how long that took. */
export async function quiesce(pid: number, maxMs = 6_000): Promise<number> {
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

/** One request, checked, before any load: a broken setup fails here with the answer it got. */
export async function check(endpoint: Endpoint, stream: boolean): Promise<void> {
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

export async function startMocks(o: MockOptions): Promise<Mocks> {
  const start = async (name: string, latency: number, chunkDelay: number, chunks = o.chunks) => {
    const { child, port } = await startChild({
      name,
      script: 'test/bench/mock-upstream.ts',
      cpu: 0,
      env: { PORT: '0', MOCK_LATENCY_MS: String(latency), MOCK_CHUNKS: String(chunks), MOCK_CHUNK_DELAY_MS: String(chunkDelay) },
    });
    return { child, url: `http://127.0.0.1:${port}` };
  };
  const [fast, slow, drip] = await Promise.all([start('mock', 0, 0), start(`mock-${o.slowMs}ms`, o.slowMs, 0), start(`mock-drip`, 0, o.dripMs, o.dripChunks)]);
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

const noActivity = () => ({ stop: async () => undefined });

export async function startTarget(target: TargetId, mocks: Mocks, o: TargetOptions): Promise<RunningTarget> {
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

  const kind = target === 'gateway-postgres' || (isGatewayVariant(target) && o.databaseUrl) ? 'postgres' : 'pglite';
  const variantEnv: Record<string, string> = isGatewayVariant(target) ? { ...GATEWAY_VARIANTS[target].env } : {};
  const sink = Object.values(variantEnv).includes(OTLP_SINK_URL) ? await startOtlpSink(o) : undefined;
  for (const [name, value] of Object.entries(variantEnv)) if (value === OTLP_SINK_URL) variantEnv[name] = sink!.url;
  o.log(`setting up ${kind} database`);
  const database: BenchDatabase = await setupDatabase({
    kind,
    databaseUrl: o.databaseUrl,
    upstreams: { fast: mocks.fast.url, slow: mocks.slow.url, drip: mocks.drip.url },
  });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await database.drop();
  };
  o.onCleanup(drop);
  const port = await freePort();
  const startedAt = Date.now();
  const base = `http://127.0.0.1:${port}`;
  let child: Child;
  try {
    ({ child } = await startChild({
      name: isGatewayVariant(target) ? target : `gateway-${kind}`,
      script: 'src/main.ts',
      cpu: 1,
      env: { ...database.env, PORT: String(port), HOST: '127.0.0.1', ...variantEnv },
      nodeArgs: o.gatewayNodeArgs ?? [],
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
      o.log(`stopping ${child.name} (SIGTERM) at ${new Date().toISOString()}`);
      const code = await child.stop(60_000);
      if (code !== 0) o.log(`warning: ${child.name} exited with code ${code}:\n${child.tail()}`);
      const out: Partial<TargetRecord> = {};
      try {
        const stats1 = await database.stats();
        if (stats0 && stats1) out.dbStats = statsDelta(stats0, stats1);
        out.accounting = await database.accounting();
      } catch (e) {
        o.log(`warning: could not read back the accounting: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (o.findProfile) {
        const file = o.findProfile(startedAt, child.pid);
        if (file) out.profile = file;
        else o.log('warning: no .cpuprofile was written');
      }
      await drop();
      if (sink) o.log(`OTLP sink received ${await sink.stop()}`);
      return out;
    },
  };
}

/** A collector that discards spans, on the load generator's core (otlp-sink.ts). */
async function startOtlpSink(o: TargetOptions): Promise<{ url: string; stop(): Promise<string> }> {
  const { child, port } = await startChild({ name: 'otlp-sink', script: 'test/bench/otlp-sink.ts', cpu: 0, env: { PORT: '0' } });
  o.onCleanup(async () => void (await child.stop(2_000)));
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await child.stop(5_000);
      const m = /OTLP_SINK (\d+) (\d+)/.exec(child.tail());
      return m ? `${m[1]} exports, ${(Number(m[2]) / 1e6).toFixed(1)} MB of spans` : 'nothing it reported';
    },
  };
}
