/**
 * What a gateway variant (tracing at ratio 1, metrics off, the access log:
 * GATEWAY_VARIANTS in report.ts) costs in CPU per request, against the
 * plain gateway, loaded at the same time on the same core, on the same database kind and
 * the fast mock: both see the same seconds of a machine whose speed
 * drifts, so their ratio is worth more than two figures from `npm run
 * bench` taken a minute apart. Usage:
 *   npx tsx test/bench/variant-cost.ts            (PGlite; Postgres when DATABASE_URL is set)
 * Env: BENCH_VARIANT (tracing; nometrics, accesslog, or same for an A/A run), BENCH_AB (together: both loaded at once on one core; alternate), BENCH_DURATION (s per round, 5), BENCH_ROUNDS (6), BENCH_WARMUP (s per gateway, 10),
 * BENCH_TRIALS (1: pairs of fresh gateway processes, each warmed and measured, the first started alternating, then the median of their costs),
 * BENCH_SCENARIOS (json-c50-lat0,stream-c50-lat0), BENCH_GATEWAY_NODE_ARGS and BENCH_CHILD_LOG_DIR (as npm run bench's).
 */
import { measuredRound, type Round } from './measured-round.js';
import { pinPostgres, pinSelf, stopAll } from './processes.js';
import { GATEWAY_VARIANTS, type GatewayVariant, isGatewayVariant, settingCost, type TargetId } from './report.js';
import { type RunningTarget, startMocks, startTarget } from './targets.js';

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const DURATION = num('BENCH_DURATION', 5);
const ROUNDS = num('BENCH_ROUNDS', 6);
const WARMUP = num('BENCH_WARMUP', 10);
const CONNECTIONS = 50;
const DATABASE_URL = process.env.DATABASE_URL?.trim() || undefined;
const VARIANT = `gateway-${process.env.BENCH_VARIANT ?? 'tracing'}`;
/**
 * Load both gateways at once, each with its own connections, both on the
 * same core: the machine's drift then falls on both alike (the default).
 * `alternate` loads one at a time, in alternating rounds.
 */
const TOGETHER = (process.env.BENCH_AB ?? 'together') === 'together';
/** Pairs of fresh gateway processes, each measured as a whole: a single process's figure depends on the state it fell into. */
const TRIALS = num('BENCH_TRIALS', 1);
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'json-c50-lat0,stream-c50-lat0').split(',').map((s) => s.trim());
/** What the variant's setting is called (what its cost is the cost of). */
const COST = isGatewayVariant(VARIANT) ? GATEWAY_VARIANTS[VARIANT].cost : VARIANT;

function load(target: RunningTarget, stream: boolean, seconds: number): Promise<Round> {
  const endpoint = target.endpoint('fast');
  const ok = (b: string) => (stream ? b.includes('[DONE]') : b.includes('"choices"')) && !b.includes('"error":');
  return measuredRound({ url: endpoint.url, headers: endpoint.headers, body: endpoint.body(stream), ok }, target.serverPid('fast'), seconds, CONNECTIONS);
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** One trial: both gateways started afresh, warmed, and measured scenario by scenario; the variant's cost per scenario. */
async function trial(n: number, mocks: Awaited<ReturnType<typeof startMocks>>, options: Parameters<typeof startTarget>[2]): Promise<Map<string, number>> {
  const log = options.log;
  const costs = new Map<string, number>();
  // Which gateway starts and warms up first alternates by trial: in three of five profiled pairs the one
  // started second, never the first, ran every process.nextTick about ten times as slowly, ~10 µs a request.
  const plainFirst = n % 2 === 1;
  const ids: TargetId[] = [DATABASE_URL ? 'gateway-postgres' : 'gateway-pglite', VARIANT as TargetId];
  const first = plainFirst ? [0, 1] : [1, 0];
  const started: RunningTarget[] = [];
  for (const i of first) started[i] = await startTarget(ids[i]!, mocks, options);
  const targets = [
    { id: 'gateway', target: started[0]! },
    { id: GATEWAY_VARIANTS[VARIANT as keyof typeof GATEWAY_VARIANTS].label, target: started[1]! },
  ];
  try {
    log(`warming up ${WARMUP} s each, ${plainFirst ? 'the plain gateway' : 'the variant'} first`);
    for (const i of first) {
      const { target } = targets[i]!;
      await load(target, false, WARMUP / 2);
      await load(target, true, WARMUP / 2);
    }
    const which = TRIALS > 1 ? `trial ${n} of ${TRIALS}: ` : '';
    process.stdout.write(`\n${which}${DATABASE_URL ? 'Postgres' : 'PGlite'}, ${CONNECTIONS} conns, fast mock, ${ROUNDS} ${TOGETHER ? 'rounds of both at once' : 'alternating rounds'}, ${DURATION} s each; medians\n\n`);
    process.stdout.write('| Scenario | Target | req/s | p50 ms | CPU s / 1k req | bad |\n|---|---|---:|---:|---:|---:|\n');
    for (const scenario of SCENARIOS) {
      const stream = scenario.startsWith('stream');
      const rounds = targets.map(() => [] as Round[]);
      for (let r = 0; r < ROUNDS; r++) {
        if (TOGETHER) {
          // Which load starts first alternates: the load generator is one process, and the load started
          // first was measured 15 % dearer per request in an A/A run (metrics off against on) when it did not.
          const order = r % 2 === 0 ? [0, 1] : [1, 0];
          const measured = await Promise.all(order.map((i) => load(targets[i]!.target, stream, DURATION)));
          const both = order.map((_, k) => measured[order.indexOf(k)]!);
          for (const [i, round] of both.entries()) rounds[i]!.push(round);
          log(`${scenario} round ${r + 1}: ${both.map((b, i) => `${targets[i]!.id} ${b.rps.toFixed(0)} req/s, ${b.cpuPer1k.toFixed(3)} CPU s / 1k`).join('; ')}`);
          continue;
        }
        const order = r % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) {
          const round = await load(targets[i]!.target, stream, DURATION);
          log(`${scenario} ${targets[i]!.id} round ${r + 1}: ${round.rps.toFixed(0)} req/s, ${round.cpuPer1k.toFixed(3)} CPU s / 1k`);
          rounds[i]!.push(round);
        }
      }
      const cpu = rounds.map((rs) => median(rs.map((r) => r.cpuPer1k)));
      targets.forEach(({ id }, i) => {
        const rs = rounds[i]!;
        process.stdout.write(
          `| ${scenario} | ${id} | ${median(rs.map((r) => r.rps)).toFixed(0)} | ${median(rs.map((r) => r.p50)).toFixed(2)} | ${cpu[i]!.toFixed(3)} | ${rs.reduce((n, r) => n + r.bad, 0)} |\n`,
        );
      });
      // Each round's variant against the plain round next to it: the spread says how far to trust the median.
      const costOf = (plainCpu: number, variantCpu: number) => settingCost(VARIANT as GatewayVariant, plainCpu, variantCpu).cost;
      const ratios = rounds[1]!.map((r, i) => costOf(rounds[0]![i]!.cpuPer1k, r.cpuPer1k));
      const cost = costOf(cpu[0]!, cpu[1]!);
      costs.set(scenario, cost);
      process.stdout.write(`| ${scenario} | cost of ${COST} | | | ${pct(cost)} (pairs of rounds: median ${pct(median(ratios))}, ${pct(Math.min(...ratios))} to ${pct(Math.max(...ratios))}) | |\n`);
    }
  } finally {
    for (const { target } of targets) await target.finish();
  }
  return costs;
}

async function main(): Promise<void> {
  if (!isGatewayVariant(VARIANT as TargetId)) throw new Error(`BENCH_VARIANT: no gateway variant "${VARIANT}" (see GATEWAY_VARIANTS in report.ts)`);
  const cleanups: Array<() => Promise<void>> = [];
  // As npm run bench: load on CPU 0 with Postgres, the gateways on CPU 1.
  const restore = pinSelf(0) && DATABASE_URL ? await pinPostgres(DATABASE_URL, 0) : undefined;
  if (restore) cleanups.push(async () => restore());
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const mocks = await startMocks({ chunks: 20, slowMs: 50, dripMs: 100, dripChunks: 10 });
  const gatewayNodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const options = { databaseUrl: DATABASE_URL, log, gatewayNodeArgs, onCleanup: (fn: () => Promise<void>) => void cleanups.push(fn) };
  try {
    const trials: Array<Map<string, number>> = [];
    for (let n = 1; n <= TRIALS; n++) trials.push(await trial(n, mocks, options));
    if (TRIALS > 1) {
      // A process keeps the GC and JIT state it fell into early; fresh processes per trial sample it.
      process.stdout.write(`\nAcross ${TRIALS} trials (fresh processes each): median cost of ${COST}\n\n| Scenario | median | trials |\n|---|---:|---|\n`);
      for (const scenario of SCENARIOS) {
        const each = trials.map((t) => t.get(scenario)!);
        process.stdout.write(`| ${scenario} | ${pct(median(each))} | ${each.map(pct).join(', ')} |\n`);
      }
    }
  } finally {
    for (const fn of cleanups) await fn();
    await stopAll();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
