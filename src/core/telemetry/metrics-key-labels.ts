import { upstreamKeys } from '../../db/schema.js';
import type { Db } from '../../db/open-database.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logger.js';

/**
 * Upstream key id → its operator-given label, for metric labels. Disabled
 * keys are kept (their series still need a name); reloaded when any replica
 * changes the keys. Bounded by the number of keys ever added.
 */
export class KeyLabels {
  #labels = new Map<string, string>();
  readonly #unsubscribe: () => void;

  constructor(
    private readonly db: Db,
    bus: EventBus,
    private readonly logger: Logger,
  ) {
    this.#unsubscribe = bus.subscribe('invalidate', (event) => {
      if (event.kind === 'upstream-keys') void this.reload();
    });
    void this.reload();
  }

  async reload(): Promise<void> {
    try {
      const rows = await this.db.select({ id: upstreamKeys.id, label: upstreamKeys.label }).from(upstreamKeys);
      this.#labels = new Map(rows.map((r) => [r.id, r.label]));
    } catch (err) {
      this.logger.warn({ err }, 'metrics: could not load upstream key labels');
    }
  }

  /** The key's label; its id until the labels are loaded (a key added a moment ago). */
  of(id: string): string {
    return this.#labels.get(id) ?? id;
  }

  close(): void {
    this.#unsubscribe();
  }
}
