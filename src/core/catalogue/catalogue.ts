import { asc } from 'drizzle-orm';
import type { Db } from '../../db/open-database.js';
import { modelRoutes, models } from '../../db/schema.js';
import type { ModelCapabilities } from '../../db/schema.js';
import type { EventBus } from '../events/event-bus.js';
import { type PriceText, type Prices, priceText } from '../money.js';
import { effectivePrices } from './model-prices.js';

/** Output ceiling reserved for when neither the request nor the model sets one. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

export interface CatalogueRoute {
  id: string;
  provider: string;
  upstreamModel: string;
  priority: number;
  weight: number;
}

export interface CatalogueModel {
  id: string;
  kind: 'chat' | 'embedding';
  ownedBy: string;
  /** Unix seconds, for the OpenAI model object. */
  created: number;
  /** Every price in force, the unset ones at their defaults (model-prices.ts). */
  prices: Prices;
  priceText: PriceText;
  contextWindow: number | null;
  maxOutputTokens: number;
  dimensions: number | null;
  fallbacks: string[];
  capabilities: ModelCapabilities;
  enabled: boolean;
  routes: CatalogueRoute[];
}

/**
 * The model catalogue held in memory: every request reads it, operators
 * rarely change it. Reloaded whole on a `catalogue` invalidation event.
 */
export class Catalogue {
  #models = new Map<string, CatalogueModel>();
  #loading: Promise<void> | undefined;
  readonly #unsubscribe: () => void;

  constructor(
    private readonly db: Db,
    bus: EventBus,
  ) {
    this.#unsubscribe = bus.subscribe('invalidate', (event) => {
      if (event.kind === 'catalogue') void this.reload();
    });
  }

  async reload(): Promise<void> {
    const load = (async () => {
      const [rows, routes] = await Promise.all([
        this.db.select().from(models),
        this.db.select().from(modelRoutes).orderBy(asc(modelRoutes.priority)),
      ]);
      const next = new Map<string, CatalogueModel>();
      for (const row of rows) {
        const prices = effectivePrices(row);
        next.set(row.id, {
          id: row.id,
          kind: row.kind,
          ownedBy: row.ownedBy,
          created: Math.floor(row.createdAt.getTime() / 1000),
          prices,
          priceText: priceText(prices),
          contextWindow: row.contextWindow,
          maxOutputTokens: row.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
          dimensions: row.dimensions,
          fallbacks: row.fallbacks,
          capabilities: row.capabilities,
          enabled: row.enabled,
          routes: [],
        });
      }
      for (const r of routes) {
        next.get(r.modelId)?.routes.push({ id: r.id, provider: r.provider, upstreamModel: r.upstreamModel, priority: r.priority, weight: r.weight });
      }
      this.#models = next;
    })();
    this.#loading = load;
    await load;
  }

  /** Loaded once before serving; afterwards reads never wait. */
  async ready(): Promise<void> {
    await (this.#loading ?? this.reload());
  }

  get(id: string): CatalogueModel | undefined {
    const model = this.#models.get(id);
    return model?.enabled ? model : undefined;
  }

  list(): CatalogueModel[] {
    return [...this.#models.values()].filter((m) => m.enabled).sort((a, b) => a.id.localeCompare(b.id));
  }

  close(): void {
    this.#unsubscribe();
  }
}
