// Money is a bigint count of pico-units (1e-12 of the currency). Prices are
// per 1M tokens with at most 6 decimals, so tokens × price is an exact
// integer number of pico-units: no rounding anywhere between price and ledger.

export const MONEY_SCALE = 12;
const PRICE_SCALE = 6;
const ONE = 10n ** BigInt(MONEY_SCALE);

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

/** "12.5" → 12_500000000000n. Throws on anything that is not a plain decimal. */
export const parseMoney = (value: string): bigint => parseScaled(value, MONEY_SCALE, 'amount');

/** A price per 1M tokens as micro-units: "0.15" → 150000n. */
export const parsePrice = (value: string): bigint => parseScaled(value, PRICE_SCALE, 'price');

/** pico-units → the shortest exact decimal string ("12.5", "0", "-0.000001"). */
export function formatMoney(pico: bigint): string {
  const negative = pico < 0n;
  const abs = negative ? -pico : pico;
  const whole = abs / ONE;
  const frac = (abs % ONE).toString().padStart(MONEY_SCALE, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

export interface Prices {
  /** micro-units per 1M tokens */
  input: bigint;
  output: bigint;
  cachedInput: bigint;
}

export interface TokenCounts {
  promptTokens: number;
  completionTokens: number;
  /** Part of promptTokens served from the provider's cache. */
  cachedTokens?: number;
}

/**
 * Exact cost in pico-units: micro-units per 1M tokens × tokens = pico-units.
 * Cached prompt tokens are billed at the cached price when the model has one.
 */
export function costOf(tokens: TokenCounts, prices: Prices): bigint {
  const cached = BigInt(Math.min(tokens.cachedTokens ?? 0, tokens.promptTokens));
  const uncached = BigInt(tokens.promptTokens) - cached;
  return uncached * prices.input + cached * prices.cachedInput + BigInt(tokens.completionTokens) * prices.output;
}
