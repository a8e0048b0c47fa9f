import postgres from 'postgres';
import type { Logger } from '../logger.js';
import { RelayedEventBus } from './relayed-event-bus.js';

export interface PgEventBusOptions {
  /** postgres:// URL of the database every replica shares. */
  url: string;
  channel?: string;
  logger?: Logger;
}

export const DEFAULT_PG_CHANNEL = 'gateway_events';

/**
 * Events across replicas through Postgres LISTEN/NOTIFY. The bus holds its
 * own connection (NOTIFY and LISTEN, re-established by postgres.js after a
 * drop) so it never competes with request queries. Delivery is best effort:
 * a replica that was disconnected misses events, which is why every cache
 * also has a TTL.
 */
export class PgEventBus extends RelayedEventBus {
  readonly #sql: postgres.Sql;
  readonly #channel: string;
  #unlisten: (() => Promise<void>) | undefined;

  private constructor(options: PgEventBusOptions) {
    super(options.logger);
    this.#channel = options.channel ?? DEFAULT_PG_CHANNEL;
    this.#sql = postgres(options.url, { max: 1, onnotice: () => {}, idle_timeout: 0, connect_timeout: 10 });
  }

  /** Connects and resolves once LISTEN is in place, so no event published afterwards is missed. */
  static async connect(options: PgEventBusOptions): Promise<PgEventBus> {
    const bus = new PgEventBus(options);
    try {
      const meta = await bus.#sql.listen(bus.#channel, (text) => bus.receive(text));
      bus.#unlisten = meta.unlisten;
    } catch (err) {
      await bus.#sql.end({ timeout: 1 });
      throw err;
    }
    return bus;
  }

  protected send(text: string): Promise<unknown> {
    return this.#sql.notify(this.#channel, text);
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    await super.close();
    await this.#unlisten?.().catch(() => {});
    await this.#sql.end({ timeout: 5 });
  }
}
