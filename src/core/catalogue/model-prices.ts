import { defaultCacheWrite1hPrice, defaultCacheWritePrice, inexactCacheWriteDefault, parsePrice, type Prices } from '../money.js';

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
 * price and never raise its reservation. (A 1.25 × default that needs more
 * than 6 decimals is rounded up: see defaultCacheWritePrice.)
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

/** Why these prices cannot be stored (an unset write price whose default is inexact), or undefined. */
export function unstorablePrices(m: StoredPrices): string | undefined {
  if (m.kind === 'embedding' || (m.cacheWritePrice !== null && m.cacheWritePrice !== undefined)) return undefined;
  return inexactCacheWriteDefault(parsePrice(m.inputPrice));
}
