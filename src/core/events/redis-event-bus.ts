import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { RelayedEventBus } from './relayed-event-bus.js';

export interface RedisEventBusOptions {
  url: string;
  channel?: string;
  logger?: Logger;
}

export const DEFAULT_REDIS_CHANNEL = 'gateway:events';

/**
 * Events across replicas through Redis pub/sub, for fleets where Postgres
 * NOTIFY would be one more load on the database. Redis needs a connection of
 * its own for SUBSCRIBE, hence two clients.
 */
export class RedisEventBus extends RelayedEventBus {
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;

  private constructor(options: RedisEventBusOptions) {
    super(options.logger);
    this.#channel = options.channel ?? DEFAULT_REDIS_CHANNEL;
    this.#pub = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    this.#sub = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: null });
    for (const client of [this.#pub, this.#sub]) {
      // ioredis reconnects by itself; without a listener an 'error' event would crash the process.
      client.on('error', (err: unknown) => {
        if (!this.closed) this.logger.warn({ err }, 'redis event bus connection error');
      });
    }
  }

  /** Connects both clients and resolves once SUBSCRIBE is in place. */
  static async connect(options: RedisEventBusOptions): Promise<RedisEventBus> {
    const bus = new RedisEventBus(options);
    try {
      await Promise.all([bus.#pub.connect(), bus.#sub.connect()]);
      bus.#sub.on('message', (channel: string, message: string) => {
        if (channel === bus.#channel) bus.receive(message);
      });
      await bus.#sub.subscribe(bus.#channel);
    } catch (err) {
      bus.closed = true;
      bus.#pub.disconnect();
      bus.#sub.disconnect();
      throw err;
    }
    return bus;
  }

  protected send(text: string): Promise<unknown> {
    return this.#pub.publish(this.#channel, text);
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    await super.close();
    await Promise.all([this.#sub.quit().catch(() => this.#sub.disconnect()), this.#pub.quit().catch(() => this.#pub.disconnect())]);
  }
}
