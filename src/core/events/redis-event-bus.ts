import { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../logger.js';
import { type GatewayEvents, LocalEventBus, type Topic } from './event-bus.js';
import { decodeWireEvent, encodeWireEvent, newOrigin } from './wire-event.js';

export interface RedisEventBusOptions {
  url: string;
  channel?: string;
  logger?: Logger;
}

export const DEFAULT_REDIS_CHANNEL = 'gateway:events';

/**
 * Events across replicas through Redis pub/sub, for fleets where Postgres
 * NOTIFY would be one more load on the database. Same contract as the
 * Postgres bus: local delivery first, own echo dropped by origin id.
 * Redis needs a connection of its own for SUBSCRIBE, hence two clients.
 */
export class RedisEventBus extends LocalEventBus {
  readonly origin = newOrigin();
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #logger: Logger;
  #closed = false;

  private constructor(options: RedisEventBusOptions) {
    super();
    this.#channel = options.channel ?? DEFAULT_REDIS_CHANNEL;
    this.#logger = options.logger ?? silentLogger;
    this.#pub = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    this.#sub = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: null });
    for (const client of [this.#pub, this.#sub]) {
      // ioredis reconnects by itself; without a listener an 'error' event would crash the process.
      client.on('error', (err: unknown) => {
        if (!this.#closed) this.#logger.warn({ err }, 'redis event bus connection error');
      });
    }
  }

  /** Connects both clients and resolves once SUBSCRIBE is in place. */
  static async connect(options: RedisEventBusOptions): Promise<RedisEventBus> {
    const bus = new RedisEventBus(options);
    try {
      await Promise.all([bus.#pub.connect(), bus.#sub.connect()]);
      bus.#sub.on('message', (channel: string, message: string) => {
        if (channel === bus.#channel) bus.#receive(message);
      });
      await bus.#sub.subscribe(bus.#channel);
    } catch (err) {
      bus.#closed = true;
      bus.#pub.disconnect();
      bus.#sub.disconnect();
      throw err;
    }
    return bus;
  }

  override publish<T extends Topic>(topic: T, payload: GatewayEvents[T]): void {
    super.publish(topic, payload);
    if (this.#closed) return;
    this.#pub.publish(this.#channel, encodeWireEvent(this.origin, topic, payload)).catch((err: unknown) => {
      if (!this.#closed) this.#logger.error({ err, topic }, 'could not publish to other replicas');
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
    await Promise.all([this.#sub.quit().catch(() => this.#sub.disconnect()), this.#pub.quit().catch(() => this.#pub.disconnect())]);
  }
}
