import postgres from 'postgres';
import { silentLogger, type Logger } from '../logger.js';
import { type GatewayEvents, LocalEventBus, type Topic } from './event-bus.js';
import { decodeWireEvent, fitWireEvent, newOrigin } from './wire-event.js';

export interface PgEventBusOptions {
  /** postgres:// URL of the database every replica shares. */
  url: string;
  channel?: string;
  logger?: Logger;
}

export const DEFAULT_PG_CHANNEL = 'gateway_events';

/**
 * Events across replicas through Postgres LISTEN/NOTIFY. Local subscribers
 * get an event at once (the LocalEventBus part); other replicas get it from
 * the NOTIFY, and this bus drops its own echo by origin id. The bus holds its
 * own connections (one for NOTIFY, one LISTENing, re-established by
 * postgres.js after a drop) so it never competes with request queries.
 * Delivery is best effort: a replica that was disconnected misses events,
 * which is why every cache also has a TTL.
 */
export class PgEventBus extends LocalEventBus {
  readonly origin = newOrigin();
  readonly #sql: postgres.Sql;
  readonly #channel: string;
  readonly #logger: Logger;
  #unlisten: (() => Promise<void>) | undefined;
  #closed = false;

  private constructor(options: PgEventBusOptions) {
    super();
    this.#channel = options.channel ?? DEFAULT_PG_CHANNEL;
    this.#logger = options.logger ?? silentLogger;
    this.#sql = postgres(options.url, { max: 1, onnotice: () => {}, idle_timeout: 0, connect_timeout: 10 });
  }

  /** Connects and resolves once LISTEN is in place, so no event published afterwards is missed. */
  static async connect(options: PgEventBusOptions): Promise<PgEventBus> {
    const bus = new PgEventBus(options);
    try {
      const meta = await bus.#sql.listen(bus.#channel, (text) => bus.#receive(text));
      bus.#unlisten = meta.unlisten;
    } catch (err) {
      await bus.#sql.end({ timeout: 1 });
      throw err;
    }
    return bus;
  }

  override publish<T extends Topic>(topic: T, payload: GatewayEvents[T]): void {
    super.publish(topic, payload);
    if (this.#closed) return;
    const text = fitWireEvent(this.origin, topic, payload);
    if (text === undefined) {
      this.#logger.error({ topic }, 'event too large for NOTIFY; delivered on this replica only');
      return;
    }
    this.#sql.notify(this.#channel, text).catch((err: unknown) => {
      if (!this.#closed) this.#logger.error({ err, topic }, 'could not NOTIFY other replicas');
    });
  }

  #receive(text: string): void {
    const event = decodeWireEvent(text);
    if (!event || event.origin === this.origin) return;
    this.deliver(event.topic, event.payload);
  }

  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await super.close();
    await this.#unlisten?.().catch(() => {});
    await this.#sql.end({ timeout: 5 });
  }
}
