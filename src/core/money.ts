// Money is a bigint count of pico-units (1e-12 of the currency). Prices are
// per 1M tokens with at most 6 decimals, so tokens × price is an exact
// integer number of pico-units: no rounding anywhere between price and ledger.

export const MONEY_SCALE = 12;
const PRICE_SCALE = 6;

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

function parseScaled(value: string, scale: number, what: string): bigint {
  const m = DECIMAL.exec(value.trim());
  if (!m) throw new RangeError(`${what} must be a decimal number, got "${value}"`);
  const [, sign, whole, frac = ''] = m;
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) {
    throw new RangeError(`${what} has more than ${scale} decimals: "${value}"`);
  }
  const digits = BigInt(whole + frac.slice(0, scale).padEnd(scale, '0'));
  return sign ? -digits : digits;
}

/** 10^scale for every scale formatScaled is asked for (no bigint power on each call). */
const POWERS_OF_TEN = Array.from({ length: 20 }, (_, i) => 10n ** BigInt(i));

function formatScaled(units: bigint, scale: number): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const one = POWERS_OF_TEN[scale] ?? 10n ** BigInt(scale);
  const rest = abs % one;
  const whole = `${negative ? '-' : ''}${abs / one}`;
  if (rest === 0n) return whole;
  // The fraction's digits: zeros in front up to the scale, none behind (rest is not 0, so a digit is left).
  const digits = rest.toString();
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48) end--;
  return `${whole}.${'0'.repeat(scale - digits.length)}${digits.slice(0, end)}`;
}

/** "12.5" → 12_500000000000n. Throws on anything that is not a plain decimal. */
export const parseMoney = (value: string): bigint => parseScaled(value, MONEY_SCALE, 'amount');

/** A price per 1M tokens as micro-units: "0.15" → 150000n. */
export const parsePrice = (value: string): bigint => parseScaled(value, PRICE_SCALE, 'price');

/** pico-units → the shortest exact decimal string ("12.5", "0", "-0.000001"). */
export const formatMoney = (pico: bigint): string => formatScaled(pico, MONEY_SCALE);

/** micro-units per 1M tokens → the shortest exact decimal string (150000n → "0.15"). */
export const formatPrice = (micro: bigint): string => formatScaled(micro, PRICE_SCALE);

export interface Prices {
  /** micro-units per 1M tokens */
  input: bigint;
  output: bigint;
  /** Prompt tokens read from the provider's prompt cache. */
  cachedInput: bigint;
  /** Prompt tokens written to the provider's prompt cache, 5-minute TTL. */
  cacheWrite: bigint;
  /** Written with the 1-hour TTL. */
  cacheWrite1h: bigint;
}

/** The same prices as decimal strings: what the usage row records as in force. */
export type PriceText = { [K in keyof Prices]: string };

export const priceText = (p: Prices): PriceText => ({
  input: formatPrice(p.input),
  output: formatPrice(p.output),
  cachedInput: formatPrice(p.cachedInput),
  cacheWrite: formatPrice(p.cacheWrite),
  cacheWrite1h: formatPrice(p.cacheWrite1h),
});

/**
 * Anthropic's list rates, the defaults when a model sets no cache-write
 * price: 1.25 × input for the 5-minute TTL, 2 × input for the 1-hour one.
 * 1.25 × a price with 5 or 6 decimals can need 8, which neither the price
 * columns nor a pico-unit ledger can hold (no charge at that price would be
 * a whole number of pico-units), so a model is never stored with such a
 * default (upsertModel refuses it: the operator sets the price). A row stored
 * before that rule is charged at the default rounded up to the next
 * millionth, less than one pico-unit per token more, and every usage row
 * records the price it was charged at.
 */
export function defaultCacheWritePrice(input: bigint): bigint {
  return (input * 5n + 3n) / 4n;
}

/** Why the 1.25 × default of this input price cannot be used, or undefined when it can. */
export function inexactCacheWriteDefault(input: bigint): string | undefined {
  if ((input * 5n) % 4n === 0n) return undefined;
  return `1.25 × input price ${formatPrice(input)} = ${formatScaled(input * 125n, PRICE_SCALE + 2)} has more than ${PRICE_SCALE} decimals; set the cache-write price explicitly`;
}

export const defaultCacheWrite1hPrice = (input: bigint): bigint => input * 2n;

export interface TokenCounts {
  /** Every input token: uncached, cache reads and cache writes. */
  promptTokens: number;
  /** Every output token, reasoning included. */
  completionTokens: number;
  /** Part of promptTokens served from the provider's cache. */
  cachedTokens?: number;
  /** Part of promptTokens written to the provider's cache, 5-minute and 1-hour TTLs. */
  cacheWriteTokens?: number;
  cacheWrite1hTokens?: number;
}

const count = (n: number | undefined): bigint => (n !== undefined && Number.isFinite(n) && n > 0 ? BigInt(Math.trunc(n)) : 0n);

/**
 * The prompt split into what is priced apart. An upstream that reports more
 * cache reads and writes than prompt tokens is taken at its parts (the
 * prompt is their sum): each token is charged once, and never below zero.
 */
export function promptParts(t: TokenCounts): { uncached: bigint; cached: bigint; write: bigint; write1h: bigint } {
  const cached = count(t.cachedTokens);
  const write = count(t.cacheWriteTokens);
  const write1h = count(t.cacheWrite1hTokens);
  const rest = count(t.promptTokens) - cached - write - write1h;
  return { uncached: rest > 0n ? rest : 0n, cached, write, write1h };
}

/**
 * Exact cost in pico-units: micro-units per 1M tokens × tokens = pico-units.
 * Uncached input, cache reads, both cache writes and output each at their own
 * price. Reasoning tokens are output tokens and cost the output price (no
 * model has a reasoning price of its own).
 */
export function costOf(tokens: TokenCounts, prices: Prices): bigint {
  const p = promptParts(tokens);
  return (
    p.uncached * prices.input +
    p.cached * prices.cachedInput +
    p.write * prices.cacheWrite +
    p.write1h * prices.cacheWrite1h +
    count(tokens.completionTokens) * prices.output
  );
}

/** The dearest price a prompt token can be charged at: a cache write usually. */
export function worstPromptPrice(p: Prices): bigint {
  let max = p.input;
  for (const v of [p.cachedInput, p.cacheWrite, p.cacheWrite1h]) if (v > max) max = v;
  return max;
}

/**
 * The most a request with these limits can cost, whatever the upstream
 * caches: every prompt token at the dearest prompt price. The charge is
 * capped at this, so anything less would undercharge a prompt written whole
 * to the cache.
 */
export const worstCaseCost = (promptTokens: number, completionTokens: number, prices: Prices): bigint =>
  count(promptTokens) * worstPromptPrice(prices) + count(completionTokens) * prices.output;
