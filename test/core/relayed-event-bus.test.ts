import { describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/core/events/event-bus.js';
import { RelayedEventBus } from '../../src/core/events/relayed-event-bus.js';

/** A relayed bus whose sends the test acknowledges by hand. */
class HeldBus extends RelayedEventBus {
  readonly sent: string[] = [];
  readonly #acks: Array<() => void> = [];
  constructor() {
    super(undefined);
  }
  protected send(text: string): Promise<unknown> {
    this.sent.push(text);
    return new Promise<void>((resolve) => this.#acks.push(resolve));
  }
  ack(): void {
    this.#acks.shift()?.();
  }
}

const usage = (requestId: string) => ({ requestId }) as UsageEvent;
const turn = () => new Promise((resolve) => setImmediate(resolve));
const ids = (text: string) => [...text.matchAll(/"requestId":"([^"]+)"/g)].map((m) => m[1]);

describe('relaying to other replicas', () => {
  it('sends at once when quiet; while a message is unacknowledged, what follows waits and goes in one', async () => {
    const bus = new HeldBus();
    bus.publish('usage', usage('a'));
    await turn();
    expect(bus.sent.map(ids)).toEqual([['a']]);
    // Three more turns while the first NOTIFY is on its way: held, not sent one by one.
    for (const id of ['b', 'c', 'd']) {
      bus.publish('usage', usage(id));
      await turn();
    }
    expect(bus.sent).toHaveLength(1);
    bus.ack();
    await turn();
    expect(bus.sent.map(ids)).toEqual([['a'], ['b', 'c', 'd']]);
    bus.ack();
    await turn();
    bus.publish('usage', usage('e'));
    await turn();
    expect(bus.sent.map(ids)).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
    bus.ack();
    await bus.close();
  });

  it('sends what waits when it closes', async () => {
    const bus = new HeldBus();
    bus.publish('usage', usage('a'));
    await turn();
    bus.publish('usage', usage('b'));
    await turn();
    await bus.close();
    expect(bus.sent.map(ids)).toEqual([['a'], ['b']]);
  });
});
