import { defaultCacheWrite1hPrice, defaultCacheWritePrice, parsePrice, type Prices } from '../money.js';

/** A model's prices as stored: decimal strings per 1M tokens, the optional ones null when unset. */
export interface StoredPrices {
  kind: 'chat' | 'embedding';
  inputPrice: string;
  outputPrice: string;
  cachedInputPrice?: string | null | undefined;
  cacheWritePrice?: string | null | undefined;
  cacheWrite1hPrice?: string | null | undefined;
}

/**
 * The prices a model charges, the unset ones filled in: cache reads cost the
 * input price, cache writes 1.25 × and 2 × input (Anthropic's rates). An
 * embedding model has no prompt cache, so its writes default to the input
 * price and never raise its reservation. Throws when a default cannot be
 * represented exactly (see defaultCacheWritePrice).
 */
export function effectivePrices(m: StoredPrices): Prices {
  const input = parsePrice(m.inputPrice);
  const set = (v: string | null | undefined) => (v === null || v === undefined ? undefined : parsePrice(v));
  const embedding = m.kind === 'embedding';
  return {
    input,
    output: parsePrice(m.outputPrice),
    cachedInput: set(m.cachedInputPrice) ?? input,
    cacheWrite: set(m.cacheWritePrice) ?? (embedding ? input : defaultCacheWritePrice(input)),
    cacheWrite1h: set(m.cacheWrite1hPrice) ?? (embedding ? input : defaultCacheWrite1hPrice(input)),
  };
}
