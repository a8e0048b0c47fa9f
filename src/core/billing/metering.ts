import { isDatabaseUnavailable } from '../../db/database-unavailable.js';
import type { Db } from '../../db/open-database.js';
import type { CatalogueModel } from '../catalogue/catalogue.js';
import type { GatewayError } from '../errors.js';
import type { Endpoint } from '../../contract/endpoints.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logger.js';
import { costOf, formatMoney, type Prices, priceText, worstCaseCost } from '../money.js';
import type { RequestContext } from '../request-context.js';
import type { RouteInfo } from '../routing/dispatcher.js';
import { recordRejection } from './record-rejection.js';
import type { RequestObserver, RequestSummary, ReservationHolder } from '../telemetry/request-observer.js';
import type { UsageCounts } from './usage-counts.js';
import { Escrow } from './escrow.js';
import { type Reservation, reserve } from './reserve.js';
import { ReservationWriter } from './reservation-writer.js';
import { type SettledStatus, type Settlement, type SettleResult, settleMany } from './settle.js';

/** Settlements written in one transaction at most. */
const MAX_BATCH = 256;
const MAX_FLUSH_RETRIES = 5;
/** How long a batch waits for an unreachable database before it is left to the recovery pass. */
const UNAVAILABLE_RETRY_MS = 30_000;
/**
 * Settlement is off every client's path, so it waits for company: several
 * requests then share one statement, one NOTIFY and its echo instead of a
 * round trip each. Each flush also costs the database and this process a
 * burst of work that the next request waits behind; at one connection a
 * 10 ms wait meant a flush every ~6 requests (p90 +3.5 ms, Postgres 0.9 ms
 * CPU per request), 100 ms one every ~100 (p90 +1 ms, 0.3 ms). The money is
 * held meanwhile (lease or row), so waiting longer risks nothing but how
 * soon balances and usage rows show the charge. Under load batches fill anyway.
 */
export const SETTLE_DELAY_MS = 100;

interface QueuedSettlement {
  settlement: Settlement;
  /** When it was queued: nothing waits more than SETTLE_DELAY_MS for company. */
  queuedAt: number;
}

const ZERO_PRICES: Prices = { input: 0n, output: 0n, cachedInput: 0n, cacheWrite: 0n, cacheWrite1h: 0n };
const ZERO_PRICE_TEXT = priceText(ZERO_PRICES);

// The tokenizer is exact for OpenAI models and an estimate for others; the
// margin keeps the worst case a worst case, since charges are capped by it.
export const promptReserveTokens = (counted: number): number => Math.ceil(counted * 1.25) + 16;

// In a file of its own, so what watches requests can name it without importing the metering.
export type { UsageCounts } from './usage-counts.js';

export interface MeterClose {
  status: SettledStatus;
  httpStatus: number;
  errorCode?: string | null;
  usage: UsageCounts;
  route?: RouteInfo | undefined;
  ttftMs?: number | null;
}

export type { Endpoint } from '../../contract/endpoints.js';

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
    /**
     * Resolves once the request's `reserved` row is committed. The money is
     * already held when the meter opens (escrow lease or project row); only
     * the row's insert may still be on its way, alongside the upstream call,
     * and nothing may reach the client before it lands.
     */
    readonly recorded: Promise<void>,
    readonly endpoint: Endpoint,
    readonly stream: boolean,
    /** Where the money is held (for the admission span). */
    readonly reservation?: ReservationHolder,
  ) {}

  costOf(usage: UsageCounts): bigint {
    return costOf(usage, this.prices);
  }

  /**
   * The upstream call runs while the reservation row is written; this
   * resolves once both are done. A row that cannot be written stops the call
   * (through `stop`): nothing is served that could not be charged.
   */
  async whenRecorded<T>(call: Promise<T>, stop: (reason: unknown) => void): Promise<T> {
    const recorded = this.recorded.catch((e: unknown) => {
      stop(e);
      throw e;
    });
    const [value] = await Promise.all([call, recorded]);
    return value;
  }

  /** Settles off the client's path; the reserved row makes it crash-safe. */
  close(outcome: MeterClose): void {
    if (this.#closed) return;
    this.#closed = true;
    this.metering.settleLater(this, outcome);
  }
}

/**
 * Reserve → settle around every metered request: the usage event when it
 * closes, the balance event once its settlement is written. Test keys take
 * the same path at a zero price.
 */
export class Metering {
  readonly #queue: QueuedSettlement[] = [];
  readonly #idleWaiters: Array<() => void> = [];
  #flushing = false;
  /** The wait for company before a flush; whoever waits for idle() ends it early. */
  #flushTimer: NodeJS.Timeout | undefined;
  /** Requests from the start of their reservation until their meter closes. */
  #open = 0;
  #onAllClosed: (() => void) | undefined;
  readonly escrow: Escrow;
  readonly #reservations: ReservationWriter;
  readonly #observers: RequestObserver[] = [];
  readonly #settlementObservers: Array<(rows: number, seconds: number) => void> = [];

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly replicaId: string,
    private readonly logger: Logger,
  ) {
    this.escrow = new Escrow(db, replicaId);
    this.#reservations = new ReservationWriter(db);
  }

  async open(
    ctx: RequestContext,
    model: CatalogueModel,
    endpoint: Endpoint,
    estimate: { promptTokens: number; maxCompletionTokens: number },
    stream: boolean,
  ): Promise<Meter> {
    const test = ctx.key.mode === 'test';
    const prices = test ? ZERO_PRICES : model.prices;
    // Every prompt token at the dearest prompt price: a prompt written whole to the cache must fit under the cap.
    const cost = worstCaseCost(promptReserveTokens(estimate.promptTokens), estimate.maxCompletionTokens, prices);
    const reservation: Reservation = {
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
    };
    this.#open++;
    let recorded: Promise<void>;
    let holder: ReservationHolder;
    try {
      ({ recorded, holder } = await this.#reserve(ctx, reservation));
    } catch (e) {
      // The admission step (core/admission/admit.ts) records the refusal.
      this.#meterClosed();
      throw e;
    }
    // Awaited by the caller before it answers, and by the settlement; never unhandled.
    recorded.catch(() => {});
    for (const observer of this.#observers) observer.requestOpened?.(ctx.requestId);
    return new Meter(this, ctx, model, prices, cost, Date.now(), recorded, endpoint, stream, holder);
  }

  /**
   * Holds the money and returns the write of the request's `reserved` row.
   * Free requests and lease-backed ones are admitted without waiting for the
   * database (the lease was taken in a transaction earlier), so their row is
   * written while the upstream call runs. Keys with a spend limit, and
   * projects near exhaustion, reserve on the project and key rows, which is
   * the admission itself and is awaited here.
   */
  // (The write travels in an object: an async function returning a promise would wait for it.)
  async #reserve(ctx: RequestContext, r: Reservation): Promise<{ recorded: Promise<void>; holder: ReservationHolder }> {
    if (r.cost === 0n) return { recorded: this.#reservations.write(r, null), holder: 'free' };
    if (!ctx.key.hasSpendLimit) {
      const leaseId = await this.escrow.reserve(r.projectId, r.cost);
      if (leaseId) {
        const recorded = this.#reservations.write(r, leaseId).catch((e: unknown) => {
          this.escrow.refund(r.projectId, leaseId, r.cost);
          throw e;
        });
        return { recorded, holder: 'lease' };
      }
    }
    await reserve(this.db, r);
    return { recorded: Promise.resolve(), holder: 'row' };
  }

  /** Requests between their reservation and their meter's close (for metrics). */
  get openCount(): number {
    return this.#open;
  }

  /** Settlements waiting for their batch, and when the oldest was queued (epoch ms). */
  get settlementQueue(): { depth: number; oldestQueuedAt: number | undefined } {
    return { depth: this.#queue.length, oldestQueuedAt: this.#queue[0]?.queuedAt };
  }

  /** Adds a watcher of every settlement batch written: its rows and how long the statement took. */
  observeSettlements(observer: (rows: number, seconds: number) => void): void {
    this.#settlementObservers.push(observer);
  }

  /** Adds one watcher of every closed request (metrics, access log, traces, live usage). */
  observe(observer: RequestObserver): void {
    this.#observers.push(observer);
  }

  #notify(summary: RequestSummary): void {
    for (const observer of this.#observers) {
      try {
        observer.requestClosed(summary);
      } catch (err) {
        this.logger.error({ err, requestId: summary.requestId }, 'request observer failed');
      }
    }
  }

  /** Records a request refused before any upstream call (403, 404, 402, 429...). */
  async reject(ctx: RequestContext, modelId: string, endpoint: Endpoint, error: GatewayError, stream: boolean): Promise<void> {
    if (this.#observers.length > 0) {
      const now = Date.now();
      this.#notify({
        requestId: ctx.requestId,
        projectId: ctx.key.projectId,
        apiKeyId: ctx.key.id,
        endpoint,
        modelId,
        route: undefined,
        status: 'rejected',
        httpStatus: error.status,
        errorCode: error.type,
        usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 },
        cost: 0n,
        reservedCost: 0n,
        stream,
        test: ctx.key.mode === 'test',
        receivedAt: ctx.receivedAt,
        startedAt: now,
        endedAt: now,
        admissionMs: ctx.receivedAt === undefined ? null : now - ctx.receivedAt,
        ttftMs: null,
        attempts: ctx.attempts ?? [],
        traceId: ctx.traceId ?? null,
      });
    }
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

  #notifySettled(results: SettleResult[], startedAt: number): void {
    if (!this.#observers.some((o) => o.requestsSettled)) return;
    const endedAt = Date.now();
    const settled = results.map((r) => ({ requestId: r.requestId, charged: r.charged }));
    for (const observer of this.#observers) {
      try {
        observer.requestsSettled?.(settled, startedAt, endedAt);
      } catch (err) {
        this.logger.error({ err }, 'settlement observer failed');
      }
    }
  }

  #meterClosed(): void {
    this.#open--;
    if (this.#open === 0) this.#onAllClosed?.();
  }

  settleLater(meter: Meter, outcome: MeterClose): void {
    const endedAt = Date.now();
    const latencyMs = endedAt - meter.startedAt;
    if (this.#observers.length > 0) this.#notify(this.#summary(meter, outcome, endedAt));
    // A row still on its way is settled once it lands; one that failed to land holds nothing to settle.
    // The meter counts as open until then, so a shutdown drain waits for it.
    meter.recorded.then(
      () => {
        this.#meterClosed();
        // Live views hear of the request now, not after the settlement's
        // batch: its charge is known already. The row it names exists (as
        // `reserved` until the batch below is written).
        this.#publishUsage(meter, outcome, latencyMs);
        this.#enqueue(meter, outcome, latencyMs);
      },
      (err: unknown) => {
        this.#meterClosed();
        this.logger.error({ err, requestId: meter.ctx.requestId }, 'reservation row not written; nothing to settle');
      },
    );
  }

  #summary(meter: Meter, outcome: MeterClose, endedAt: number): RequestSummary {
    const { ctx } = meter;
    return {
      requestId: ctx.requestId,
      projectId: ctx.key.projectId,
      apiKeyId: ctx.key.id,
      endpoint: meter.endpoint,
      modelId: meter.model.id,
      route: outcome.route,
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      errorCode: outcome.errorCode ?? null,
      usage: outcome.usage,
      cost: meter.costOf(outcome.usage),
      reservedCost: meter.reservedCost,
      reservation: meter.reservation,
      stream: meter.stream,
      test: ctx.key.mode === 'test',
      receivedAt: ctx.receivedAt,
      startedAt: meter.startedAt,
      endedAt,
      admissionMs: admissionMs(meter),
      ttftMs: outcome.ttftMs ?? null,
      attempts: ctx.attempts ?? [],
      traceId: ctx.traceId ?? null,
      capture: ctx.capture,
    };
  }

  #enqueue(meter: Meter, outcome: MeterClose, latencyMs: number): void {
    const route = outcome.route;
    const attempts = meter.ctx.attempts;
    this.#queue.push({
      settlement: {
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
        attempts: route?.attempts ?? attempts?.length ?? 0,
        // One successful attempt says nothing the row's own columns do not.
        attemptLog: attempts && (attempts.length > 1 || attempts.some((a) => a.outcome !== 'ok')) ? attempts : null,
        admissionMs: admissionMs(meter),
        traceId: meter.ctx.traceId ?? null,
      },
      queuedAt: Date.now(),
    });
    if (!this.#flushing) {
      this.#flushing = true;
      this.#flushTimer = setTimeout(() => void this.#flush(), SETTLE_DELAY_MS);
    }
  }

  /** Group commit: one transaction per batch, off every client's path. */
  async #flush(): Promise<void> {
    // Started by its timer or early by idle(): either way the wait is over.
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    let failures = 0;
    let unavailableSince: number | undefined;
    let unavailableTries = 0;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      try {
        const started = performance.now();
        const startedAt = Date.now();
        const results = await settleMany(this.db, batch.map((b) => b.settlement));
        this.#notifySettled(results, startedAt);
        const seconds = (performance.now() - started) / 1000;
        for (const observe of this.#settlementObservers) {
          try {
            observe(batch.length, seconds);
          } catch {
            // Written is written: a watcher's failure must not retry the batch.
          }
        }
        failures = 0;
        if (unavailableSince !== undefined) this.logger.warn({ waitedMs: Date.now() - unavailableSince }, 'database reachable again; settlements written');
        unavailableSince = undefined;
        unavailableTries = 0;
        this.escrow.settled(results);
        this.#publishBalances(results);
      } catch (err) {
        if (isDatabaseUnavailable(err) && (unavailableSince ??= Date.now()) > Date.now() - UNAVAILABLE_RETRY_MS) {
          // Down or restarting: postgres.js reconnects by itself, so the batch
          // waits for it rather than leaving its money reserved until recovery.
          if (++unavailableTries === 1) this.logger.warn({ requests: batch.length }, 'database unreachable; settlements wait for it');
          this.#queue.unshift(...batch);
          await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * 2 ** Math.min(unavailableTries, 5))));
          continue;
        }
        failures++;
        if (failures <= MAX_FLUSH_RETRIES) {
          this.#queue.unshift(...batch);
          await new Promise((resolve) => setTimeout(resolve, 50 * failures));
        } else {
          // The rows stay `reserved`; the recovery pass settles them.
          this.logger.error({ err, requests: batch.map((b) => b.settlement.requestId) }, 'settlement failed; left for recovery');
          failures = 0;
        }
      }
      // What arrived during the statement waits for company too, for the
      // rest of its SETTLE_DELAY_MS: looping at once made a flush of two or
      // three rows every few milliseconds at one connection. A full batch, a
      // retry or someone waiting for idle() goes on now.
      const waitMs = this.#queue.length > 0 ? SETTLE_DELAY_MS - (Date.now() - this.#queue[0]!.queuedAt) : 0;
      if (failures === 0 && waitMs > 0 && this.#queue.length < MAX_BATCH && this.#idleWaiters.length === 0) {
        this.#flushTimer = setTimeout(() => void this.#flush(), waitMs);
        return;
      }
    }
    this.#flushing = false;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** The usage event of a closed request: what its settlement will charge, before it is written. */
  #publishUsage(meter: Meter, outcome: MeterClose, latencyMs: number): void {
    const { ctx } = meter;
    const cost = meter.costOf(outcome.usage);
    this.bus.publish('usage', {
      requestId: ctx.requestId,
      projectId: ctx.key.projectId,
      apiKeyId: ctx.key.id,
      model: meter.model.id,
      provider: outcome.route?.provider ?? null,
      upstreamKeyId: outcome.route?.upstreamKeyId ?? null,
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      ...outcome.usage,
      // The settlement charges the cost capped at the reservation (settle.ts).
      // biome-ignore lint/complexity/useMathMinMax: bigints; Math.min takes numbers.
      cost: formatMoney(cost < meter.reservedCost ? cost : meter.reservedCost),
      latencyMs,
      ttftMs: outcome.ttftMs ?? null,
      stream: meter.stream,
      test: ctx.key.mode === 'test',
      createdAt: new Date(meter.startedAt).toISOString(),
      settled: false,
    });
  }

  /** One balance event per project of a written batch: balances move only once the settlement commits. */
  #publishBalances(results: SettleResult[]): void {
    const balances = new Map<string, SettleResult>();
    for (const result of results) if (result.charged > 0n) balances.set(result.projectId, result);
    for (const r of balances.values()) {
      this.bus.publish('balance', { projectId: r.projectId, balance: formatMoney(r.projectBalance), reserved: formatMoney(r.projectReserved) });
    }
  }

  /**
   * For shutdown: waits (at most `graceMs`) for open requests to close their
   * meters, then for their settlements to be written.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.#open > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#onAllClosed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#onAllClosed = undefined;
      if (this.#open > 0) this.logger.warn({ open: this.#open }, 'requests still open at shutdown; their reservations are left for recovery');
    }
    await this.idle();
  }

  /** Resolves when every settlement queued so far has been written (or given up to recovery). */
  async idle(): Promise<void> {
    if (!this.#flushing && this.#queue.length === 0) return;
    const waited = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    if (this.#flushTimer) void this.#flush();
    await waited;
  }
}

/** From the door's arrival time (when it gave one) until the reservation was held. */
const admissionMs = (meter: Meter): number | null =>
  meter.ctx.receivedAt === undefined ? null : Math.max(0, meter.startedAt - meter.ctx.receivedAt);
