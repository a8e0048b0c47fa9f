import type { EventBus, Topic } from '../../src/core/events/event-bus.js';

/**
 * Resolves when the next subscriber of `topic` joins the bus: a GraphQL
 * subscription is live from then on, so a test can cause its event without
 * sleeping and without racing the server's subscribe.
 */
export function nextSubscriber(bus: EventBus, topic: Topic): Promise<void> {
  return new Promise((resolve) => {
    const original = bus.subscribe;
    bus.subscribe = function (this: EventBus, t: Topic, handler: Parameters<EventBus['subscribe']>[1]) {
      const off = original.call(this, t, handler as never);
      if (t === topic) {
        bus.subscribe = original;
        resolve();
      }
      return off;
    } as EventBus['subscribe'];
  });
}
