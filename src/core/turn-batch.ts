/**
 * Collects what is added during one turn of the event loop and hands it over
 * in one piece at the end of the turn (setImmediate): the group commit behind
 * reservation inserts and cross-replica events. Under load one turn carries
 * the work of many requests; a lone request waits microseconds.
 */
export class TurnBatch<T> {
  #items: T[] = [];
  #scheduled = false;

  constructor(private readonly handOver: (items: T[]) => void) {}

  add(item: T): void {
    this.#items.push(item);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands over what is pending now, without waiting for the turn to end. */
  flush(): void {
    this.#scheduled = false;
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.handOver(items);
  }
}
