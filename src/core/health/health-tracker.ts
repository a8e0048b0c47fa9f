import type { EventBus } from '../events/event-bus.js';
import type { ProviderError } from '../../providers/provider.js';

export type HealthState = 'healthy' | 'degraded' | 'cooling_down' | 'down' | 'disabled';

export interface KeyHealth {
  upstreamKeyId: string;
  provider: string;
  state: HealthState;
  successRate: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  p50TtftMs: number | null;
  inFlight: number;
  requests: number;
  lastError: string | null;
  lastErrorAt: string | null;
  cooldownUntil: string | null;
}

const WINDOW = 100;
const CIRCUIT_THRESHOLD = 5;
const BASE_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
const DEFAULT_COOLDOWN_MS = 30_000;
const DEGRADED_BELOW = 0.9;

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

  constructor(
    readonly id: string,
    readonly provider: string,
  ) {}

  push(outcome: Outcome): void {
    this.outcomes.push(outcome);
    if (this.outcomes.length > WINDOW) this.outcomes.shift();
  }

  state(now: number): HealthState {
    if (this.disabled) return 'disabled';
    if (this.circuitOpenUntil > 0) return 'down';
    if (this.cooldownUntil > now) return 'cooling_down';
    const rate = this.successRate();
    return rate < DEGRADED_BELOW && this.outcomes.length >= 5 ? 'degraded' : 'healthy';
  }

  successRate(): number {
    if (this.outcomes.length === 0) return 1;
    return this.outcomes.filter((o) => o.ok).length / this.outcomes.length;
  }
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Per-upstream-key health in memory: a sliding window of outcomes, cooldown
 * after 429, a circuit breaker with exponential backoff and one half-open
 * probe after repeated failures, and `disabled` for keys the upstream
 * rejected. State changes are published as `health` events.
 */
export class HealthTracker {
  readonly #keys = new Map<string, KeyRecord>();

  constructor(
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
  ) {}

  #record(id: string, provider: string): KeyRecord {
    let r = this.#keys.get(id);
    if (!r) this.#keys.set(id, (r = new KeyRecord(id, provider)));
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
      // The client's mistake says nothing about the key.
      this.#publishIfChanged(r);
      return;
    }
    r.push({ ok: false, latencyMs, ttftMs: null });
    if (error.errorClass === 'key_fatal') {
      r.disabled = true;
    } else if (error.upstreamStatus === 429) {
      r.cooldownUntil = now + (error.retryAfterMs ?? DEFAULT_COOLDOWN_MS);
    } else {
      r.consecutiveFailures++;
      if (r.halfOpenProbe || r.consecutiveFailures >= CIRCUIT_THRESHOLD) {
        r.halfOpenProbe = false;
        r.openings++;
        r.circuitOpenUntil = now + Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (r.openings - 1));
      }
    }
    this.#publishIfChanged(r);
  }

  /** An operator re-enabled or edited the key: forget its failures. */
  reset(id: string): void {
    this.#keys.delete(id);
  }

  snapshot(id: string, provider: string): KeyHealth {
    const r = this.#keys.get(id) ?? new KeyRecord(id, provider);
    const now = this.now();
    const ok = r.outcomes.filter((o) => o.ok);
    return {
      upstreamKeyId: id,
      provider: r.provider,
      state: r.state(now),
      successRate: r.successRate(),
      p50LatencyMs: percentile(ok.map((o) => o.latencyMs), 50),
      p95LatencyMs: percentile(ok.map((o) => o.latencyMs), 95),
      p50TtftMs: percentile(ok.flatMap((o) => (o.ttftMs === null ? [] : [o.ttftMs])), 50),
      inFlight: r.inFlight,
      requests: r.outcomes.length,
      lastError: r.lastError,
      lastErrorAt: r.lastErrorAt?.toISOString() ?? null,
      cooldownUntil: r.cooldownUntil > now ? new Date(r.cooldownUntil).toISOString() : null,
    };
  }

  #publishIfChanged(r: KeyRecord): void {
    const state = r.state(this.now());
    if (state === r.lastState) return;
    r.lastState = state;
    const snap = this.snapshot(r.id, r.provider);
    this.bus.publish('health', { ...snap, at: new Date(this.now()).toISOString() });
  }
}
