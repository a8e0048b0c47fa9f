import type { Db } from '../../db/open-database.js';
import type { CatalogueModel } from '../catalogue/catalogue.js';
import { GatewayError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logger.js';
import { costOf, formatMoney, type Prices } from '../money.js';
import type { RequestContext } from '../request-context.js';
import type { RouteInfo } from '../routing/dispatcher.js';
import { recordRejection } from './record-rejection.js';
import { reserve } from './reserve.js';
import { type SettledStatus, settle } from './settle.js';

const ZERO_PRICES: Prices = { input: 0n, output: 0n, cachedInput: 0n };
const ZERO_PRICE_TEXT = { input: '0', output: '0', cachedInput: '0' };

// The tokenizer is exact for OpenAI models and an estimate for others; the
// margin keeps the worst case a worst case, since charges are capped by it.
export const promptReserveTokens = (counted: number): number => Math.ceil(counted * 1.25) + 16;

export interface UsageCounts {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
}

export interface MeterClose {
  status: SettledStatus;
  httpStatus: number;
  errorCode?: string | null;
  usage: UsageCounts;
  route?: RouteInfo | undefined;
  ttftMs?: number | null;
}

export type Endpoint = 'chat' | 'embeddings';

/** One request's reservation, closed exactly once. */
export class Meter {
  #closed = false;

  constructor(
    private readonly metering: Metering,
    readonly ctx: RequestContext,
    readonly model: CatalogueModel,
    readonly prices: Prices,
    readonly reservedCost: bigint,
    readonly startedAt: number,
  ) {}

  costOf(usage: UsageCounts): bigint {
    return costOf(usage, this.prices);
  }

  /** Settles off the client's path; the reserved row makes it crash-safe. */
  close(outcome: MeterClose): void {
    if (this.#closed) return;
    this.#closed = true;
    this.metering.settleLater(this, outcome);
  }
}

/**
 * Reserve → settle around every metered request, and the usage event after
 * it. Test keys take the same path at a zero price.
 */
export class Metering {
  readonly #pending = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly replicaId: string,
    private readonly logger: Logger,
  ) {}

  async open(
    ctx: RequestContext,
    model: CatalogueModel,
    endpoint: Endpoint,
    estimate: { promptTokens: number; maxCompletionTokens: number },
    stream: boolean,
  ): Promise<Meter> {
    const test = ctx.key.mode === 'test';
    const prices = test ? ZERO_PRICES : model.prices;
    const cost = costOf(
      { promptTokens: promptReserveTokens(estimate.promptTokens), completionTokens: estimate.maxCompletionTokens },
      prices,
    );
    try {
      await reserve(this.db, {
        requestId: ctx.requestId,
        projectId: ctx.key.projectId,
        apiKeyId: ctx.key.id,
        endpoint,
        modelId: model.id,
        cost,
        promptTokens: estimate.promptTokens,
        prices,
        priceText: test ? ZERO_PRICE_TEXT : model.priceText,
        stream,
        test,
        replicaId: this.replicaId,
      });
    } catch (e) {
      if (e instanceof GatewayError) await this.reject(ctx, model.id, endpoint, e, stream);
      throw e;
    }
    return new Meter(this, ctx, model, prices, cost, Date.now());
  }

  /** Records a request refused before any upstream call (403, 404, 402, 429...). */
  async reject(ctx: RequestContext, modelId: string, endpoint: Endpoint, error: GatewayError, stream: boolean): Promise<void> {
    await recordRejection(this.db, {
      requestId: ctx.requestId,
      projectId: ctx.key.projectId,
      apiKeyId: ctx.key.id,
      endpoint,
      modelId,
      httpStatus: error.status,
      errorCode: error.type,
      stream,
      test: ctx.key.mode === 'test',
      replicaId: this.replicaId,
    });
  }

  settleLater(meter: Meter, outcome: MeterClose): void {
    const task = this.#settle(meter, outcome).catch((err: unknown) => {
      // The reserved row stays; the recovery pass settles it.
      this.logger.error({ requestId: meter.ctx.requestId, err }, 'settlement failed; left for recovery');
    });
    this.#pending.add(task);
    void task.finally(() => this.#pending.delete(task));
  }

  async #settle(meter: Meter, outcome: MeterClose): Promise<void> {
    const latencyMs = Date.now() - meter.startedAt;
    const route = outcome.route;
    const result = await settle(this.db, {
      requestId: meter.ctx.requestId,
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      errorCode: outcome.errorCode ?? null,
      ...outcome.usage,
      cost: meter.costOf(outcome.usage),
      provider: route?.provider ?? null,
      upstreamModel: route?.upstreamModel ?? null,
      upstreamKeyId: route?.upstreamKeyId ?? null,
      latencyMs,
      ttftMs: outcome.ttftMs ?? null,
      attempts: route?.attempts ?? 0,
    });
    if (!result) return;
    this.bus.publish('usage', {
      requestId: meter.ctx.requestId,
      projectId: result.projectId,
      apiKeyId: result.apiKeyId,
      model: result.modelId,
      provider: route?.provider ?? null,
      upstreamKeyId: route?.upstreamKeyId ?? null,
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      ...outcome.usage,
      cost: formatMoney(result.charged),
      latencyMs,
      ttftMs: outcome.ttftMs ?? null,
      stream: result.stream,
      test: result.test,
      createdAt: result.createdAt.toISOString(),
    });
    if (result.charged > 0n) {
      this.bus.publish('balance', { projectId: result.projectId, balance: formatMoney(result.balance), reserved: formatMoney(result.reserved) });
    }
  }

  /** Resolves when every settlement started so far has been written. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
