import { silentLogger, type Logger } from '../logger.js';
import { TurnBatch } from '../turn-batch.js';
import { type GatewayEvents, LocalEventBus, type Topic } from './event-bus.js';
import { isOwnWireMessage, newOrigin, packWireEvents, unpackWireEvents, type WireEvent } from './wire-event.js';

/**
 * The part every cross-replica bus shares. Local subscribers get an event at
 * once; for other replicas, everything published in one turn of the event
 * loop is packed into as few messages as fit and handed to `send` (one
 * NOTIFY or PUBLISH per settle batch instead of one per request). Incoming
 * messages from this bus itself are skipped unparsed.
 */
export abstract class RelayedEventBus extends LocalEventBus {
  readonly origin = newOrigin();
  protected readonly logger: Logger;
  readonly #outbox = new TurnBatch<WireEvent>((events) => this.#relay(events));
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
    const messages = packWireEvents(this.origin, events, (e) =>
      this.logger.error({ topic: e.topic }, 'event too large to relay; delivered on this replica only'),
    );
    for (const text of messages) {
      const started = this.#relayObservers.length > 0 ? performance.now() : 0;
      this.send(text).then(
        () => {
          for (const observe of this.#relayObservers) observe((performance.now() - started) / 1000);
        },
        (err: unknown) => {
          if (!this.closed) this.logger.error({ err }, 'could not relay events to other replicas');
        },
      );
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
    this.closed = true;
    await super.close();
  }
}
