// Publish/subscribe by topic. One replica uses the in-process bus; several
// replicas share events through Postgres LISTEN/NOTIFY or Redis pub/sub
// behind the same interface. Payloads are small JSON values (ids, counts),
// never secrets.

import type { UsageCounts } from '../billing/usage-counts.js';

export interface UsageEvent extends UsageCounts {
  requestId: string;
  projectId: string;
  apiKeyId: string;
  model: string;
  provider: string | null;
  upstreamKeyId: string | null;
  status: string;
  httpStatus: number | null;
  /** Decimal string in the deployment currency. */
  cost: string;
  latencyMs: number | null;
  ttftMs: number | null;
  stream: boolean;
  test: boolean;
  createdAt: string;
  /**
   * False: published when the request closed, before its settlement was
   * written (the charge is final, the row and balance follow within the
   * settlement batch). Absent from replicas that published after settling.
   */
  settled?: boolean;
}

export interface HealthEvent {
  upstreamKeyId: string;
  provider: string;
  state: string;
  at: string;
  [extra: string]: unknown;
}

/** Something an operator changed: caches drop what they hold for it. */
export type InvalidateEvent =
  | { kind: 'api-key'; id: string }
  | { kind: 'project'; id: string }
  | { kind: 'permissions'; projectId: string }
  | { kind: 'catalogue' }
  | { kind: 'upstream-keys' }
  | { kind: 'admin-tokens' };

export interface BalanceEvent {
  projectId: string;
  balance: string;
  reserved: string;
}

export interface GatewayEvents {
  usage: UsageEvent;
  health: HealthEvent;
  invalidate: InvalidateEvent;
  balance: BalanceEvent;
  /** A background response was cancelled: the replica running it stops it (core/doors/responses/background-runner.ts). */
  'response-cancel': { responseId: string };
}

export type Topic = keyof GatewayEvents;
export type Handler<T extends Topic> = (payload: GatewayEvents[T]) => void;

export interface EventBus {
  publish<T extends Topic>(topic: T, payload: GatewayEvents[T]): void;
  /** Returns the unsubscribe function. */
  subscribe<T extends Topic>(topic: T, handler: Handler<T>): () => void;
  close(): Promise<void>;
}

/** Delivers to local subscribers; the shared base of the cross-replica buses. */
export class LocalEventBus implements EventBus {
  readonly #handlers = new Map<Topic, Set<Handler<Topic>>>();

  publish<T extends Topic>(topic: T, payload: GatewayEvents[T]): void {
    this.deliver(topic, payload);
  }

  /** Hands an event to this process's subscribers; a throwing handler never stops the others. */
  protected deliver<T extends Topic>(topic: T, payload: GatewayEvents[T]): void {
    const handlers = this.#handlers.get(topic);
    if (!handlers) return;
    for (const handler of handlers) {
      try {
        (handler as Handler<T>)(payload);
      } catch {
        // A subscriber's bug must not break the publisher's request.
      }
    }
  }

  subscribe<T extends Topic>(topic: T, handler: Handler<T>): () => void {
    let set = this.#handlers.get(topic);
    if (!set) this.#handlers.set(topic, (set = new Set()));
    set.add(handler as Handler<Topic>);
    return () => set.delete(handler as Handler<Topic>);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
