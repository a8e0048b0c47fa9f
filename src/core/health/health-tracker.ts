import type { EventBus } from '../events/event-bus.js';
import type { ProviderError } from '../../contract/provider.js';

export type HealthState = 'healthy' | 'degraded' | 'cooling_down' | 'down' | 'disabled';

export interface KeyHealth {
  upstreamKeyId: string;
  provider: string;
  state: HealthState;
  successRate: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  p50TtftMs: number | null;
  p95TtftMs: number | null;
  inFlight: number;
  requests: number;
  lastError: string | null;
  lastErrorAt: string | null;
  cooldownUntil: string | null;
  /** When an open circuit lets its next half-open probe through. */
  circuitOpenUntil: string | null;
  consecutiveFailures: number;
}

/** Health of every key of one provider seen by this replica, summed over their windows. */
export interface ProviderHealth {
  provider: string;
  /** The best state of its keys: a provider is as healthy as its healthiest key. */
  state: HealthState;
  keys: number;
  availableKeys: number;
  successRate: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  p50TtftMs: number | null;
  p95TtftMs: number | null;
  inFlight: number;
  requests: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

export interface HealthOptions {
  /** Outcomes kept per key for rates and percentiles. */
  window?: number;
  /** Consecutive failures that open the circuit. */
  circuitThreshold?: number;
  /** First open period; doubles on each failed half-open probe. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Cooldown after a 429 that named no retry delay. */
  defaultCooldownMs?: number;
  /** Below this success rate (with at least `minOutcomesForDegraded` outcomes) a key is degraded. */
  degradedBelow?: number;
  minOutcomesForDegraded?: number;
}

const DEFAULTS: Required<HealthOptions> = {
  window: 100,
  circuitThreshold: 5,
  baseBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  defaultCooldownMs: 30_000,
  degradedBelow: 0.9,
  minOutcomesForDegraded: 5,
};

const STATE_ORDER: HealthState[] = ['healthy', 'degraded', 'cooling_down', 'down', 'disabled'];

interface Outcome {
  ok: boolean;
  latencyMs: number;
  ttftMs: number | null;
}

class KeyRecord {
  outcomes: Outcome[] = [];
  consecutiveFailures = 0;
  openings = 0;
  cooldownUntil = 0;
  circuitOpenUntil = 0;
  halfOpenProbe = false;
  disabled = false;
  inFlight = 0;
  lastError: string | null = null;
  lastErrorAt: Date | null = null;
  lastState: HealthState = 'healthy';
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    readonly provider: string,
    private readonly options: Required<HealthOptions>,
    /** When this record started (ms). */
    readonly since: number,
  ) {}

  /** Successes in `outcomes`, kept as they come and go: state() runs on every request. */
  #ok = 0;

  push(outcome: Outcome): void {
    this.outcomes.push(outcome);
    if (outcome.ok) this.#ok++;
    if (this.outcomes.length > this.options.window && this.outcomes.shift()!.ok) this.#ok--;
  }

  /** Starts the window again. */
  forget(): void {
    this.outcomes = [];
    this.#ok = 0;
  }

  state(now: number): HealthState {
    if (this.disabled) return 'disabled';
    if (this.circuitOpenUntil > 0) return 'down';
    if (this.cooldownUntil > now) return 'cooling_down';
    const rate = this.successRate();
    return rate < this.options.degradedBelow && this.outcomes.length >= this.options.minOutcomesForDegraded ? 'degraded' : 'healthy';
  }

  successRate(): number {
    if (this.outcomes.length === 0) return 1;
    return this.#ok / this.outcomes.length;
  }
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least p% of the values at or below it.
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const latencies = (outcomes: Outcome[]) => outcomes.filter((o) => o.ok).map((o) => o.latencyMs);
const ttfts = (outcomes: Outcome[]) => outcomes.flatMap((o) => (o.ok && o.ttftMs !== null ? [o.ttftMs] : []));

/**
 * Per-upstream-key health in memory: a sliding window of outcomes, cooldown
 * after 429, a circuit breaker with exponential backoff and one half-open
 * probe after repeated failures, and `disabled` for keys the upstream
 * rejected. Every state change is published as a `health` event, including
 * the ones time makes (a cooldown running out).
 */
export class HealthTracker {
  readonly #keys = new Map<string, KeyRecord>();
  readonly #options: Required<HealthOptions>;

  constructor(
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
    options: HealthOptions = {},
  ) {
    this.#options = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  }

  #record(id: string, provider: string): KeyRecord {
    let r = this.#keys.get(id);
    if (!r) this.#keys.set(id, (r = new KeyRecord(id, provider, this.#options, this.now())));
    return r;
  }

  /** Whether a new request may be sent with this key now. */
  isAvailable(id: string): boolean {
    const r = this.#keys.get(id);
    if (!r) return true;
    const now = this.now();
    if (r.disabled || r.cooldownUntil > now) return false;
    if (r.circuitOpenUntil > 0) {
      // Half-open: after the backoff one probe request goes through.
      if (now < r.circuitOpenUntil || r.halfOpenProbe) return false;
    }
    return true;
  }

  onStart(id: string, provider: string): void {
    const r = this.#record(id, provider);
    r.inFlight++;
    if (r.circuitOpenUntil > 0 && this.now() >= r.circuitOpenUntil) r.halfOpenProbe = true;
  }

  onSuccess(id: string, provider: string, latencyMs: number, ttftMs: number | null = null): void {
    const r = this.#record(id, provider);
    r.inFlight = Math.max(0, r.inFlight - 1);
    // A successful half-open probe closes the circuit: the outage is over and
    // the window starts again, rather than calling the key degraded for the
    // failures that opened it.
    if (r.circuitOpenUntil > 0) r.forget();
    r.push({ ok: true, latencyMs, ttftMs });
    r.consecutiveFailures = 0;
    r.circuitOpenUntil = 0;
    r.halfOpenProbe = false;
    r.openings = 0;
    this.#publishIfChanged(r);
  }

  onFailure(id: string, provider: string, error: ProviderError, latencyMs: number): void {
    const r = this.#record(id, provider);
    const now = this.now();
    r.inFlight = Math.max(0, r.inFlight - 1);
    r.lastError = error.message.slice(0, 300);
    r.lastErrorAt = new Date(now);
    if (error.errorClass === 'client') {
      // The client's mistake says nothing about the key; a probe that met one proved nothing either.
      r.halfOpenProbe = false;
      this.#publishIfChanged(r);
      return;
    }
    r.push({ ok: false, latencyMs, ttftMs: null });
    if (error.errorClass === 'key_fatal') {
      r.disabled = true;
    } else if (error.upstreamStatus === 429) {
      r.halfOpenProbe = false;
      r.cooldownUntil = now + (error.retryAfterMs ?? this.#options.defaultCooldownMs);
    } else {
      r.consecutiveFailures++;
      if (r.halfOpenProbe || r.consecutiveFailures >= this.#options.circuitThreshold) {
        r.halfOpenProbe = false;
        r.openings++;
        r.circuitOpenUntil = now + Math.min(this.#options.maxBackoffMs, this.#options.baseBackoffMs * 2 ** (r.openings - 1));
      }
    }
    this.#publishIfChanged(r);
  }

  /**
   * The call ended without a verdict on the key (the client went away, the
   * request's own deadline passed): release it, and a half-open probe with it.
   */
  onCancel(id: string): void {
    const r = this.#keys.get(id);
    if (!r) return;
    r.inFlight = Math.max(0, r.inFlight - 1);
    r.halfOpenProbe = false;
  }

  /** An operator re-enabled or edited the key: forget its failures. */
  reset(id: string): void {
    const r = this.#keys.get(id);
    if (!r) return;
    clearTimeout(r.timer);
    this.#keys.delete(id);
    if (r.lastState !== 'healthy') this.#publish(new KeyRecord(id, r.provider, this.#options, this.now()));
  }

  /**
   * The key was changed at `changedAt` (ms), maybe by an operator on another
   * replica (re-enabled after the upstream rejected it, secret rotated):
   * health recorded before that is about the old key, so it is forgotten,
   * as `reset` does on the replica where the change was made.
   */
  forgetBefore(id: string, changedAt: number): void {
    const r = this.#keys.get(id);
    if (r && r.since < changedAt) this.reset(id);
  }

  snapshot(id: string, provider: string): KeyHealth {
    const now = this.now();
    const r = this.#keys.get(id) ?? new KeyRecord(id, provider, this.#options, now);
    return {
      upstreamKeyId: id,
      provider: r.provider,
      state: r.state(now),
      successRate: r.successRate(),
      p50LatencyMs: percentile(latencies(r.outcomes), 50),
      p95LatencyMs: percentile(latencies(r.outcomes), 95),
      p50TtftMs: percentile(ttfts(r.outcomes), 50),
      p95TtftMs: percentile(ttfts(r.outcomes), 95),
      inFlight: r.inFlight,
      requests: r.outcomes.length,
      lastError: r.lastError,
      lastErrorAt: r.lastErrorAt?.toISOString() ?? null,
      cooldownUntil: r.cooldownUntil > now ? new Date(r.cooldownUntil).toISOString() : null,
      circuitOpenUntil: r.circuitOpenUntil > 0 ? new Date(r.circuitOpenUntil).toISOString() : null,
      consecutiveFailures: r.consecutiveFailures,
    };
  }

  /** Every key this replica has seen a call on. */
  snapshots(): KeyHealth[] {
    return [...this.#keys.values()].map((r) => this.snapshot(r.id, r.provider));
  }

  /** One provider's keys together (only keys this replica has called). */
  providerSnapshot(provider: string): ProviderHealth {
    const records = [...this.#keys.values()].filter((r) => r.provider === provider);
    const now = this.now();
    const outcomes = records.flatMap((r) => r.outcomes);
    const states = records.map((r) => r.state(now));
    const last = records.reduce<KeyRecord | undefined>(
      (best, r) => (r.lastErrorAt && (!best?.lastErrorAt || r.lastErrorAt > best.lastErrorAt) ? r : best),
      undefined,
    );
    return {
      provider,
      state: states.length === 0 ? 'healthy' : STATE_ORDER[Math.min(...states.map((s) => STATE_ORDER.indexOf(s)))]!,
      keys: records.length,
      availableKeys: records.filter((r) => this.isAvailable(r.id)).length,
      successRate: outcomes.length === 0 ? 1 : outcomes.filter((o) => o.ok).length / outcomes.length,
      p50LatencyMs: percentile(latencies(outcomes), 50),
      p95LatencyMs: percentile(latencies(outcomes), 95),
      p50TtftMs: percentile(ttfts(outcomes), 50),
      p95TtftMs: percentile(ttfts(outcomes), 95),
      inFlight: records.reduce((n, r) => n + r.inFlight, 0),
      requests: outcomes.length,
      lastError: last?.lastError ?? null,
      lastErrorAt: last?.lastErrorAt?.toISOString() ?? null,
    };
  }

  #publishIfChanged(r: KeyRecord): void {
    const now = this.now();
    const state = r.state(now);
    // A cooldown ends by itself: wake up then to publish the change.
    clearTimeout(r.timer);
    r.timer = undefined;
    if (state === 'cooling_down') {
      r.timer = setTimeout(() => this.#publishIfChanged(r), Math.max(0, r.cooldownUntil - now) + 1);
      r.timer.unref();
    }
    if (state === r.lastState) return;
    r.lastState = state;
    this.#publish(r);
  }

  #publish(r: KeyRecord): void {
    const snap = this.snapshot(r.id, r.provider);
    this.bus.publish('health', { ...snap, at: new Date(this.now()).toISOString() });
  }
}
