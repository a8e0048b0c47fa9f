import { Repeater } from 'graphql-yoga';
import type { GatewayEvents, Topic } from '../core/events/event-bus.js';
import type { GraphQLContext } from './context.js';

export interface BusFeedOptions<T extends Topic> {
  accept?: (event: GatewayEvents[T]) => boolean;
  /** Values sent first, read after subscribing so nothing in between is lost. */
  initial?: () => Promise<Array<GatewayEvents[T]>>;
  /** Called every `everyMs` while the feed is open; its values are sent as they come. */
  heartbeat?: { everyMs: number; values: () => Promise<Array<GatewayEvents[T]>> };
}

/**
 * A subscription's event stream from the gateway's bus. It ends when the
 * client goes away (the Repeater is returned) or the server shuts down, and
 * always unsubscribes from the bus.
 */
export function busFeed<T extends Topic>(ctx: GraphQLContext, topic: T, options: BusFeedOptions<T> = {}): AsyncIterable<GatewayEvents[T]> {
  return new Repeater<GatewayEvents[T]>(async (push, stop) => {
    const off = ctx.gateway.bus.subscribe(topic, (event) => {
      if (!options.accept || options.accept(event)) void push(event);
    });
    const onShutdown = () => stop();
    ctx.shutdown.addEventListener('abort', onShutdown, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      if (ctx.shutdown.aborted) return;
      if (options.initial) for (const value of await options.initial()) await push(value);
      if (options.heartbeat) {
        const { everyMs, values } = options.heartbeat;
        timer = setInterval(() => {
          values()
            .then(async (list) => {
              for (const value of list) await push(value);
            })
            .catch((err: unknown) => stop(err));
        }, everyMs);
      }
      await stop;
    } catch (err) {
      stop(err);
    } finally {
      if (timer) clearInterval(timer);
      ctx.shutdown.removeEventListener('abort', onShutdown);
      off();
    }
  });
}
