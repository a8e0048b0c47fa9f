/**
 * Scenario `responses-json-c50-lat0`: a non-stream POST /v1/responses next
 * to the same request as chat completions (`json-c50-lat0`), on one
 * gateway, against the fast mock, in alternating rounds so both see the
 * same minute of a shared machine. Usage:
 *   npx tsx test/bench/responses-vs-chat.ts            (PGlite; Postgres when DATABASE_URL is set)
 * Env: BENCH_DURATION (s per round, 6), BENCH_ROUNDS (2), BENCH_WARMUP (s, 8).
 */
import { request } from 'undici';
import { measuredRound, type Round, type RoundRequest } from './measured-round.js';
import { stopAll } from './processes.js';
import { BENCH_MODELS } from './setup-gateway.js';
import { type Endpoint, startMocks, startTarget } from './targets.js';

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const DURATION = num('BENCH_DURATION', 6);
const ROUNDS = num('BENCH_ROUNDS', 2);
const WARMUP = num('BENCH_WARMUP', 8);
const CONNECTIONS = 50;
const DATABASE_URL = process.env.DATABASE_URL;

const SYSTEM = 'You are a benchmark.';
const USER = 'Say hello to the benchmark, briefly.';
/** The chat scenario's request, as the Responses API spells it. */
const responsesBody = JSON.stringify({ model: BENCH_MODELS.fast, instructions: SYSTEM, input: USER, max_output_tokens: 64, store: false });

interface Door extends RoundRequest {
  id: string;
}

const load = (door: Door, seconds: number, pid: number): Promise<Round> => measuredRound(door, pid, seconds, CONNECTIONS);

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const mocks = await startMocks({ chunks: 20, slowMs: 50, dripMs: 100, dripChunks: 10 });
  const target = await startTarget(DATABASE_URL ? 'gateway-postgres' : 'gateway-pglite', mocks, { databaseUrl: DATABASE_URL, log, onCleanup: (fn) => cleanups.push(fn) });
  try {
    const chat: Endpoint = target.endpoint('fast');
    const doors: Door[] = [
      { id: 'json-c50-lat0', url: chat.url, headers: chat.headers, body: chat.body(false), ok: (b) => b.includes('"choices"') && !b.includes('"error":') },
      {
        id: 'responses-json-c50-lat0',
        url: chat.url.replace(/\/chat\/completions$/, '/responses'),
        headers: chat.headers,
        body: responsesBody,
        ok: (b) => b.includes('"object":"response"') && b.includes('"status":"completed"'),
      },
    ];
    for (const door of doors) {
      const res = await request(door.url, { method: 'POST', headers: { 'content-type': 'application/json', ...door.headers }, body: door.body });
      const text = await res.body.text();
      if (res.statusCode !== 200 || !door.ok(text)) throw new Error(`${door.id} check answered ${res.statusCode}: ${text.slice(0, 400)}`);
    }
    const pid = target.serverPid('fast');
    log(`warming up ${WARMUP} s`);
    for (const door of doors) await load(door, WARMUP / 2, pid);
    const rounds = new Map<string, Round[]>(doors.map((d) => [d.id, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const door of r % 2 === 0 ? doors : [...doors].reverse()) {
        const round = await load(door, DURATION, pid);
        log(`${door.id} round ${r + 1}: ${round.rps.toFixed(0)} req/s, p50 ${round.p50.toFixed(2)} ms`);
        rounds.get(door.id)!.push(round);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    process.stdout.write(`\n${DATABASE_URL ? 'Postgres' : 'PGlite'}, ${CONNECTIONS} conns, fast mock, ${ROUNDS} alternating rounds of ${DURATION} s\n\n`);
    process.stdout.write('| Scenario | req/s | p50 ms | p99 ms | gateway CPU s / 1k req | non-2xx / err / bad body |\n|---|---:|---:|---:|---:|---:|\n');
    for (const [id, rs] of rounds) {
      process.stdout.write(
        `| ${id} | ${mean(rs.map((r) => r.rps)).toFixed(0)} | ${mean(rs.map((r) => r.p50)).toFixed(2)} | ${mean(rs.map((r) => r.p99)).toFixed(2)} | ${mean(rs.map((r) => r.cpuPer1k)).toFixed(3)} | ${rs.reduce((n, r) => n + r.bad, 0)} |\n`,
      );
    }
  } finally {
    await target.finish();
    for (const fn of cleanups) await fn();
    await stopAll();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
