import { Registry } from 'prom-client';
import { poolStatsOf } from '../../db/pool-stats.js';
import type { Endpoint } from '../../contract/endpoints.js';
import type { Metering } from '../billing/metering.js';
import type { Catalogue } from '../catalogue/catalogue.js';
import type { EventBus } from '../events/event-bus.js';
import { RelayedEventBus } from '../events/relayed-event-bus.js';
import type { Gateway } from '../gateway.js';
import type { HealthTracker } from '../health/health-tracker.js';
import type { Logger } from '../logger.js';
import { ATTEMPT_BUCKETS, BATCH_BUCKETS, DURATION_BUCKETS, STATEMENT_BUCKETS, TOKEN_BUCKETS, TTFT_BUCKETS } from './metrics-buckets.js';
import { CounterFamily, type CounterSeries, HistogramFamily, type HistogramSeries } from './metrics-families.js';
import { KeyLabels } from './metrics-key-labels.js';
import { processMetrics } from './metrics-process.js';
import { type ScrapeDeps, scrapeGauges } from './metrics-scrape.js';
import type { RequestObserver, RequestSummary } from './request-observer.js';

// The gateway's Prometheus families. Counters and histograms are fed by the
// request observer (one call per closed request, on its path: one map
// lookup for the request's series, then additions); everything that is a
// state (circuits, open reservations, queues, leases, the database) is read
// when Prometheus scrapes. Every label is bounded: doors, catalogue models,
// providers, upstream keys, outcomes; projects only with METRICS_PER_PROJECT.

export interface MetricsOptions {
  metering: Metering;
  health: HealthTracker;
  catalogue: Catalogue;
  bus: EventBus;
  logger: Logger;
  scrape: Omit<ScrapeDeps, 'metering' | 'health' | 'keyLabels'>;
  perProject: boolean;
}

const PICO = 1e12;

/** The GenAI operation a door performs (gen_ai.operation.name). */
const operationOf = (door: Endpoint): string => (door === 'embeddings' || door === 'embed_content' ? 'embeddings' : 'chat');

/** What the settlement charges: the cost capped at the reservation (billing/settle.ts). */
export function chargeOf(s: RequestSummary): bigint {
  // Not Math.min: these are bigints.
  if (s.cost > s.reservedCost) return s.reservedCost;
  return s.cost;
}

const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

const mode = (s: RequestSummary): string => (s.test ? 'test' : 'live');

/** The series one kind of request adds to, resolved once per label combination. */
interface RequestSeries {
  requests: CounterSeries;
  duration: HistogramSeries;
  /** These, like the rest below, are made on first use: a series that never had a value is not shown. */
  ttft: HistogramSeries | undefined;
  tokenInput: HistogramSeries | undefined;
  tokenOutput: HistogramSeries | undefined;
  /** By TOKEN_KINDS index. */
  tokens: Array<CounterSeries | undefined>;
  spend: CounterSeries | undefined;
}

interface AttemptSeries {
  attempts: CounterSeries;
  duration: HistogramSeries;
  failovers: CounterSeries | undefined;
}

const TOKEN_KINDS = ['input', 'cached', 'cache_write', 'cache_write_1h', 'output', 'reasoning'] as const;

export class GatewayMetrics implements RequestObserver {
  readonly registry = new Registry();
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  readonly #keyLabels: KeyLabels;
  readonly #catalogue: Catalogue;
  readonly #perProject: boolean;
  readonly #requests: CounterFamily;
  readonly #duration: HistogramFamily;
  readonly #ttft: HistogramFamily;
  readonly #tokenUsage: HistogramFamily;
  readonly #tokens: CounterFamily;
  readonly #spend: CounterFamily;
  readonly #refused: CounterFamily;
  readonly #attempts: CounterFamily;
  readonly #attemptDuration: HistogramFamily;
  readonly #failovers: CounterFamily;
  readonly #byRequest = new Map<string, RequestSeries>();
  readonly #byAttempt = new Map<string, AttemptSeries>();

  constructor(options: MetricsOptions) {
    const registry = this.registry;
    const project = options.perProject ? ['project'] : [];
    this.#perProject = options.perProject;
    this.#catalogue = options.catalogue;
    const keyLabels = new KeyLabels(options.scrape.db, options.bus, options.logger);
    this.#keyLabels = keyLabels;

    this.#requests = new CounterFamily(
      'gateway_requests_total',
      'Metered requests by door, public model, status class (2xx, 4xx, 5xx, aborted) and key mode.',
      ['door', 'model', 'status_class', 'mode', ...project],
      registry,
    );
    this.#duration = new HistogramFamily(
      'gen_ai_server_request_duration_seconds',
      'From the request reaching the gateway until its answer or stream ended (gen_ai.server.request.duration).',
      ['door', 'gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'status_class'],
      DURATION_BUCKETS,
      registry,
    );
    this.#ttft = new HistogramFamily(
      'gen_ai_server_time_to_first_token_seconds',
      'From the request reaching the gateway until the first streamed chunk (gen_ai.server.time_to_first_token); streams only.',
      ['door', 'gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model'],
      TTFT_BUCKETS,
      registry,
    );
    this.#tokenUsage = new HistogramFamily(
      'gen_ai_client_token_usage',
      'Tokens per upstream operation by type, input or output (gen_ai.client.token.usage).',
      ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_token_type'],
      TOKEN_BUCKETS,
      registry,
    );
    this.#tokens = new CounterFamily(
      'gateway_tokens_total',
      'Tokens by model, provider and kind: input (all prompt tokens), cached, cache_write, cache_write_1h (parts of input), output, reasoning (part of output).',
      ['model', 'provider', 'kind', 'mode', ...project],
      registry,
    );
    this.#spend = new CounterFamily(
      'gateway_spend_total',
      'Charges in the deployment currency (a float sum; the exact figures are the usage rows).',
      ['model', 'provider', ...project],
      registry,
    );
    this.#refused = new CounterFamily('gateway_refused_for_balance_total', 'Requests refused with 402 (balance or spend limit).', ['mode', ...project], registry);
    this.#attempts = new CounterFamily(
      'gateway_upstream_attempts_total',
      'Upstream attempts by provider, upstream key and outcome.',
      ['provider', 'key_id', 'outcome'],
      registry,
      // The label as it is now: an operator may rename a key.
      (labels) => ({ provider: labels.provider!, key_id: labels.key_id!, key_label: labels.key_id === 'none' ? 'none' : keyLabels.of(labels.key_id!), outcome: labels.outcome! }),
    );
    this.#attemptDuration = new HistogramFamily(
      'gateway_upstream_attempt_duration_seconds',
      'One upstream attempt, until its answer (JSON) or first chunk (stream).',
      ['provider', 'outcome'],
      ATTEMPT_BUCKETS,
      registry,
    );
    this.#failovers = new CounterFamily(
      'gateway_failovers_total',
      'Attempts given up for the next key or fallback model, by the provider and outcome of the attempt given up.',
      ['provider', 'outcome'],
      registry,
    );
    const settlementRows = new HistogramFamily('gateway_settlement_batch_rows', 'Usage rows per settlement batch.', [], BATCH_BUCKETS, registry).series();
    const settlementSeconds = new HistogramFamily('gateway_settlement_batch_duration_seconds', 'Time to write one settlement batch (one transaction).', [], STATEMENT_BUCKETS, registry).series();
    options.metering.observeSettlements((rows, seconds) => {
      settlementRows.observe(rows);
      settlementSeconds.observe(seconds);
    });
    if (options.bus instanceof RelayedEventBus) {
      const relay = new HistogramFamily(
        'gateway_event_bus_relay_duration_seconds',
        'From sending one cross-replica event message (NOTIFY or PUBLISH) until the server acknowledged it.',
        [],
        STATEMENT_BUCKETS,
        registry,
      ).series();
      options.bus.observeRelay((seconds) => relay.observe(seconds));
    }
    scrapeGauges(registry, { ...options.scrape, metering: options.metering, health: options.health, keyLabels });
  }

  requestClosed(s: RequestSummary): void {
    // A refused request may name any string as its model: only catalogue models become label values.
    const model = s.status !== 'rejected' || this.#catalogue.get(s.modelId) ? s.modelId : 'unknown';
    const provider = s.route?.provider ?? 'none';
    const statusClass = s.status === 'aborted' ? 'aborted' : STATUS_CLASSES[Math.floor(s.httpStatus / 100)] ?? 'other';
    const series = this.#requestSeries(s, model, provider, statusClass);

    series.requests.inc();
    const arrived = s.receivedAt ?? s.startedAt;
    series.duration.observe(Math.max(0, s.endedAt - arrived) / 1000);
    if (s.ttftMs !== null && s.status === 'ok') {
      (series.ttft ??= this.#ttft.series(s.endpoint, operationOf(s.endpoint), provider, model)).observe(Math.max(0, s.startedAt + s.ttftMs - arrived) / 1000);
    }

    if (s.status === 'rejected') {
      if (s.httpStatus === 402) this.#refused.series(...(this.#perProject ? [mode(s), s.projectId] : [mode(s)])).inc();
    } else {
      const u = s.usage;
      this.#addTokens(series, 0, model, provider, s, u.promptTokens);
      if (u.cachedTokens) this.#addTokens(series, 1, model, provider, s, u.cachedTokens);
      if (u.cacheWriteTokens) this.#addTokens(series, 2, model, provider, s, u.cacheWriteTokens);
      if (u.cacheWrite1hTokens) this.#addTokens(series, 3, model, provider, s, u.cacheWrite1hTokens);
      this.#addTokens(series, 4, model, provider, s, u.completionTokens);
      if (u.reasoningTokens) this.#addTokens(series, 5, model, provider, s, u.reasoningTokens);
      if (s.route) {
        const operation = operationOf(s.endpoint);
        (series.tokenInput ??= this.#tokenUsage.series(operation, provider, model, 'input')).observe(u.promptTokens);
        if (operation !== 'embeddings') (series.tokenOutput ??= this.#tokenUsage.series(operation, provider, model, 'output')).observe(u.completionTokens);
      }
      const charged = chargeOf(s);
      if (charged > 0n) (series.spend ??= this.#spend.series(...(this.#perProject ? [model, provider, s.projectId] : [model, provider]))).inc(Number(charged) / PICO);
    }

    const attempts = s.attempts;
    for (let i = 0; i < attempts.length; i++) {
      const a = attempts[i]!;
      const keyId = a.upstreamKeyId ?? 'none';
      const key = `${a.provider}\u0000${keyId}\u0000${a.outcome}`;
      let as = this.#byAttempt.get(key);
      if (!as) {
        as = { attempts: this.#attempts.series(a.provider, keyId, a.outcome), duration: this.#attemptDuration.series(a.provider, a.outcome), failovers: undefined };
        this.#byAttempt.set(key, as);
      }
      as.attempts.inc();
      as.duration.observe(a.durationMs / 1000);
      if (i < attempts.length - 1) (as.failovers ??= this.#failovers.series(a.provider, a.outcome)).inc();
    }
  }

  #addTokens(series: RequestSeries, kind: number, model: string, provider: string, s: RequestSummary, n: number): void {
    if (!n) return;
    let cell = series.tokens[kind];
    if (!cell) {
      const values = [model, provider, TOKEN_KINDS[kind]!, mode(s)];
      if (this.#perProject) values.push(s.projectId);
      cell = series.tokens[kind] = this.#tokens.series(...values);
    }
    cell.inc(n);
  }

  #requestSeries(s: RequestSummary, model: string, provider: string, statusClass: string): RequestSeries {
    const door = s.endpoint;
    const key = `${door}\u0000${model}\u0000${statusClass}\u0000${s.test ? 't' : 'l'}\u0000${provider}${this.#perProject ? `\u0000${s.projectId}` : ''}`;
    let series = this.#byRequest.get(key);
    if (!series) {
      const operation = operationOf(door);
      series = {
        requests: this.#requests.series(...[door, model, statusClass, mode(s)], ...(this.#perProject ? [s.projectId] : [])),
        duration: this.#duration.series(door, operation, provider, model, statusClass),
        ttft: undefined,
        tokenInput: undefined,
        tokenOutput: undefined,
        tokens: [],
        spend: undefined,
      };
      this.#byRequest.set(key, series);
    }
    return series;
  }

  /** The exposition: the process's own metrics, then the gateway's. */
  async render(): Promise<string> {
    const [process, gateway] = await Promise.all([processMetrics().metrics(), this.registry.metrics()]);
    return `${process}\n${gateway}`;
  }

  close(): void {
    this.#keyLabels.close();
  }
}

/** The metrics of one gateway, watching its requests from now on. */
export function startGatewayMetrics(gateway: Gateway): GatewayMetrics {
  const raw = gateway.database.raw;
  const metrics = new GatewayMetrics({
    metering: gateway.metering,
    health: gateway.health,
    catalogue: gateway.catalogue,
    bus: gateway.bus,
    logger: gateway.logger,
    perProject: gateway.config.METRICS_PER_PROJECT,
    scrape: { db: gateway.database.db, replicaId: gateway.replicaId, pool: raw.kind === 'postgres' ? { max: raw.client.options.max, stats: poolStatsOf(raw.client) } : undefined },
  });
  gateway.metering.observe(metrics);
  return metrics;
}
