import { silentLogger, type Logger } from '../logger.js';
import { TurnBatch } from '../turn-batch.js';
import { type GatewayEvents, LocalEventBus, type Topic } from './event-bus.js';
import { isOwnWireMessage, newOrigin, packWireEvents, unpackWireEvents, type WireEvent } from './wire-event.js';

/**
 * The part every cross-replica bus shares. Local subscribers get an event at
 * once; for other replicas, everything published in one turn of the event
 * loop is packed into as few messages as fit and handed to `send`. While a
 * message is on its way, what is published meanwhile waits for it and goes
 * in the next one: a quiet bus relays each event at once (the usage event
 * of every request, within a round trip), a busy one sends one NOTIFY or
 * PUBLISH per round trip rather than one per turn. Incoming messages from
 * this bus itself are skipped unparsed.
 */
/** Events held behind an unacknowledged message at most; past it they go without waiting (a stalled connection must not hoard them). */
const MAX_WAITING = 10_000;

export abstract class RelayedEventBus extends LocalEventBus {
  readonly origin = newOrigin();
  protected readonly logger: Logger;
  readonly #outbox = new TurnBatch<WireEvent>((events) => this.#relay(events));
  /** Messages sent and not yet acknowledged; events waiting for them to be. */
  #inFlight = 0;
  #waiting: WireEvent[] = [];
  protected closed = false;
  readonly #relayObservers: Array<(seconds: number) => void> = [];

  protected constructor(logger: Logger | undefined) {
    super();
    this.logger = logger ?? silentLogger;
  }

  /** Sends one packed message to the other replicas. */
  protected abstract send(text: string): Promise<unknown>;

  override publish<T extends Topic>(topic: T, payload: GatewayEvents[T]): void {
    super.publish(topic, payload);
    if (this.closed) return;
    this.#outbox.add({ topic, payload } as WireEvent);
  }

  #relay(events: WireEvent[]): void {
    if (this.closed) return;
    if (this.#inFlight > 0 && this.#waiting.length < MAX_WAITING) {
      for (const e of events) this.#waiting.push(e);
      return;
    }
    this.#sendAll(events);
  }

  #sendAll(events: WireEvent[]): void {
    const messages = packWireEvents(this.origin, events, (e) =>
      this.logger.error({ topic: e.topic }, 'event too large to relay; delivered on this replica only'),
    );
    for (const text of messages) {
      const started = this.#relayObservers.length > 0 ? performance.now() : 0;
      this.#inFlight++;
      this.send(text)
        .then(
          () => {
            for (const observe of this.#relayObservers) observe((performance.now() - started) / 1000);
          },
          (err: unknown) => {
            if (!this.closed) this.logger.error({ err }, 'could not relay events to other replicas');
          },
        )
        .finally(() => {
          if (--this.#inFlight > 0 || this.#waiting.length === 0 || this.closed) return;
          const waiting = this.#waiting;
          this.#waiting = [];
          this.#sendAll(waiting);
        });
    }
  }

  /** Adds a watcher of each relayed message: seconds from its send until the server acknowledged it (metrics). */
  observeRelay(observer: (seconds: number) => void): void {
    this.#relayObservers.push(observer);
  }

  protected receive(text: string): void {
    if (isOwnWireMessage(this.origin, text)) return;
    const message = unpackWireEvents(text);
    if (!message) return;
    for (const event of message.events) this.deliver(event.topic, event.payload);
  }

  /** Relays what is still queued, then stops relaying. */
  override async close(): Promise<void> {
    this.#outbox.flush();
    if (this.#waiting.length > 0) {
      const waiting = this.#waiting;
      this.#waiting = [];
      this.#sendAll(waiting);
    }
    this.closed = true;
    await super.close();
  }
}
