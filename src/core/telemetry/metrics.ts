import { Counter, Histogram, Registry } from 'prom-client';
import type { Endpoint } from '../../contract/endpoints.js';
import type { Metering } from '../billing/metering.js';
import type { Catalogue } from '../catalogue/catalogue.js';
import type { EventBus } from '../events/event-bus.js';
import { RelayedEventBus } from '../events/relayed-event-bus.js';
import type { Gateway } from '../gateway.js';
import type { HealthTracker } from '../health/health-tracker.js';
import type { Logger } from '../logger.js';
import { ATTEMPT_BUCKETS, BATCH_BUCKETS, DURATION_BUCKETS, STATEMENT_BUCKETS, TOKEN_BUCKETS, TTFT_BUCKETS } from './metrics-buckets.js';
import { KeyLabels } from './metrics-key-labels.js';
import { processMetrics } from './metrics-process.js';
import { type ScrapeDeps, scrapeGauges } from './metrics-scrape.js';
import type { RequestObserver, RequestSummary } from './request-observer.js';

// The gateway's Prometheus families. Counters and histograms are fed by the
// request observer (one call per closed request, on its path: a handful of
// label lookups, nothing that allocates per series); everything that is a
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

const statusClassOf = (s: RequestSummary): string => (s.status === 'aborted' ? 'aborted' : `${Math.floor(s.httpStatus / 100)}xx`);

export class GatewayMetrics implements RequestObserver {
  readonly registry = new Registry();
  readonly #keyLabels: KeyLabels;
  readonly #catalogue: Catalogue;
  readonly #perProject: boolean;
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #ttft: Histogram;
  readonly #tokenUsage: Histogram;
  readonly #tokens: Counter;
  readonly #spend: Counter;
  readonly #refused: Counter;
  readonly #attempts: Counter;
  readonly #attemptDuration: Histogram;
  readonly #failovers: Counter;
  readonly #settlementRows: Histogram;
  readonly #settlementSeconds: Histogram;
  readonly #relaySeconds: Histogram;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    const project = options.perProject ? ['project'] : [];
    this.#perProject = options.perProject;
    this.#catalogue = options.catalogue;
    this.#keyLabels = new KeyLabels(options.scrape.db, options.bus, options.logger);

    this.#requests = new Counter({
      name: 'gateway_requests_total',
      help: 'Metered requests by door, public model, status class (2xx, 4xx, 5xx, aborted) and key mode.',
      labelNames: ['door', 'model', 'status_class', 'mode', ...project],
      registers,
    });
    this.#duration = new Histogram({
      name: 'gen_ai_server_request_duration_seconds',
      help: 'From the request reaching the gateway until its answer or stream ended (gen_ai.server.request.duration).',
      labelNames: ['door', 'gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'status_class'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#ttft = new Histogram({
      name: 'gen_ai_server_time_to_first_token_seconds',
      help: 'From the request reaching the gateway until the first streamed chunk (gen_ai.server.time_to_first_token); streams only.',
      labelNames: ['door', 'gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model'],
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.#tokenUsage = new Histogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens per upstream operation by type, input or output (gen_ai.client.token.usage).',
      labelNames: ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_token_type'],
      buckets: TOKEN_BUCKETS,
      registers,
    });
    this.#tokens = new Counter({
      name: 'gateway_tokens_total',
      help: 'Tokens charged by model, provider and kind: input (all prompt tokens), cached, cache_write, cache_write_1h (parts of input), output, reasoning (part of output).',
      labelNames: ['model', 'provider', 'kind', 'mode', ...project],
      registers,
    });
    this.#spend = new Counter({
      name: 'gateway_spend_total',
      help: 'Charges in the deployment currency (a float sum; the exact figures are the usage rows).',
      labelNames: ['model', 'provider', ...project],
      registers,
    });
    this.#refused = new Counter({
      name: 'gateway_refused_for_balance_total',
      help: 'Requests refused with 402 (balance or spend limit).',
      labelNames: ['mode', ...project],
      registers,
    });
    this.#attempts = new Counter({
      name: 'gateway_upstream_attempts_total',
      help: 'Upstream attempts by provider, upstream key and outcome.',
      labelNames: ['provider', 'key_id', 'key_label', 'outcome'],
      registers,
    });
    this.#attemptDuration = new Histogram({
      name: 'gateway_upstream_attempt_duration_seconds',
      help: 'One upstream attempt, until its answer (JSON) or first chunk (stream).',
      labelNames: ['provider', 'outcome'],
      buckets: ATTEMPT_BUCKETS,
      registers,
    });
    this.#failovers = new Counter({
      name: 'gateway_failovers_total',
      help: 'Attempts given up for the next key or fallback model, by the provider and outcome of the attempt given up.',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.#settlementRows = new Histogram({
      name: 'gateway_settlement_batch_rows',
      help: 'Usage rows per settlement batch.',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.#settlementSeconds = new Histogram({
      name: 'gateway_settlement_batch_duration_seconds',
      help: 'Time to write one settlement batch (one transaction).',
      buckets: STATEMENT_BUCKETS,
      registers,
    });
    this.#relaySeconds = new Histogram({
      name: 'gateway_event_bus_relay_duration_seconds',
      help: 'From sending one cross-replica event message (NOTIFY or PUBLISH) until the server acknowledged it.',
      buckets: STATEMENT_BUCKETS,
      registers,
    });
    options.metering.observeSettlements((rows, seconds) => {
      this.#settlementRows.observe(rows);
      this.#settlementSeconds.observe(seconds);
    });
    if (options.bus instanceof RelayedEventBus) options.bus.observeRelay((seconds) => this.#relaySeconds.observe(seconds));
    scrapeGauges(this.registry, { ...options.scrape, metering: options.metering, health: options.health, keyLabels: this.#keyLabels });
  }

  requestClosed(s: RequestSummary): void {
    const door = s.endpoint;
    // A refused request may name any string as its model: only catalogue models become label values.
    const model = s.status !== 'rejected' || this.#catalogue.get(s.modelId) ? s.modelId : 'unknown';
    const mode = s.test ? 'test' : 'live';
    const statusClass = statusClassOf(s);
    const provider = s.route?.provider ?? 'none';
    const operation = operationOf(door);
    const project = this.#perProject ? s.projectId : undefined;

    this.#requests.inc(project === undefined ? { door, model, status_class: statusClass, mode } : { door, model, status_class: statusClass, mode, project });
    const arrived = s.receivedAt ?? s.startedAt;
    const request = { door, gen_ai_operation_name: operation, gen_ai_provider_name: provider, gen_ai_request_model: model };
    this.#duration.observe({ ...request, status_class: statusClass }, Math.max(0, s.endedAt - arrived) / 1000);
    if (s.ttftMs !== null && s.status === 'ok') this.#ttft.observe(request, Math.max(0, s.startedAt + s.ttftMs - arrived) / 1000);

    if (s.status === 'rejected') {
      if (s.httpStatus === 402) this.#refused.inc(project === undefined ? { mode } : { mode, project });
    } else {
      this.#countTokens(s, model, provider, mode, operation, project);
    }
    this.#countAttempts(s);
  }

  #countTokens(s: RequestSummary, model: string, provider: string, mode: string, operation: string, project: string | undefined): void {
    const u = s.usage;
    const inc = (kind: string, n: number | undefined) => {
      if (n) this.#tokens.inc(project === undefined ? { model, provider, kind, mode } : { model, provider, kind, mode, project }, n);
    };
    inc('input', u.promptTokens);
    inc('cached', u.cachedTokens);
    inc('cache_write', u.cacheWriteTokens);
    inc('cache_write_1h', u.cacheWrite1hTokens);
    inc('output', u.completionTokens);
    inc('reasoning', u.reasoningTokens);
    if (s.route) {
      const labels = { gen_ai_operation_name: operation, gen_ai_provider_name: provider, gen_ai_request_model: model };
      this.#tokenUsage.observe({ ...labels, gen_ai_token_type: 'input' }, u.promptTokens);
      if (operation !== 'embeddings') this.#tokenUsage.observe({ ...labels, gen_ai_token_type: 'output' }, u.completionTokens);
    }
    const charged = chargeOf(s);
    if (charged > 0n) this.#spend.inc(project === undefined ? { model, provider } : { model, provider, project }, Number(charged) / PICO);
  }

  #countAttempts(s: RequestSummary): void {
    const attempts = s.attempts;
    for (let i = 0; i < attempts.length; i++) {
      const a = attempts[i]!;
      const keyId = a.upstreamKeyId ?? 'none';
      this.#attempts.inc({ provider: a.provider, key_id: keyId, key_label: a.upstreamKeyId ? this.#keyLabels.of(a.upstreamKeyId) : 'none', outcome: a.outcome });
      this.#attemptDuration.observe({ provider: a.provider, outcome: a.outcome }, a.durationMs / 1000);
      if (i < attempts.length - 1) this.#failovers.inc({ provider: a.provider, outcome: a.outcome });
    }
  }

  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;

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
    scrape: { db: gateway.database.db, replicaId: gateway.replicaId, poolMax: raw.kind === 'postgres' ? raw.client.options.max : undefined },
  });
  gateway.metering.observe(metrics);
  return metrics;
}
