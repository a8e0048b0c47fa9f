import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { promptReserveTokens } from '../../src/core/billing/metering.js';
import { costOf, formatMoney, parseMoney, parsePrice, worstCaseCost } from '../../src/core/money.js';

const price = fc.integer({ min: 0, max: 100_000_000 }).map((micro) => BigInt(micro)); // up to 100 per 1M tokens
const prices = fc.record({ input: price, output: price, cachedInput: price, cacheWrite: price, cacheWrite1h: price });

describe('exact money', () => {
  it('formats and parses every amount without loss', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), (pico) => parseMoney(formatMoney(pico)) === pico));
  });

  it('formats the shortest decimal: no zeros behind the point, none but one before it', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), (pico) => /^-?(0|[1-9]\d*)(\.\d*[1-9])?$/.test(formatMoney(pico))));
    expect(formatMoney(1n)).toBe('0.000000000001');
    expect(formatMoney(-1_500_000_000_000n)).toBe('-1.5');
    expect(formatMoney(12_000_000_000_000n)).toBe('12');
    expect(formatMoney(120_030_000_000_000n)).toBe('120.03');
    expect(formatMoney(0n)).toBe('0');
  });

  it('parses decimal strings exactly and refuses what is not one', () => {
    expect(parseMoney('12.5')).toBe(12_500_000_000_000n);
    expect(formatMoney(parseMoney('0.1') + parseMoney('0.2'))).toBe('0.3');
    expect(parsePrice('0.15')).toBe(150_000n);
    expect(() => parseMoney('1e3')).toThrow();
    expect(() => parsePrice('0.0000001')).toThrow(/decimals/);
  });

  it('has no rounding drift: many small charges add up to the charge of their sum', () => {
    fc.assert(
      fc.property(prices, fc.array(fc.record({ p: fc.nat(5000), c: fc.nat(5000) }), { minLength: 1, maxLength: 200 }), (pr, calls) => {
        const each = calls.reduce((sum, x) => sum + costOf({ promptTokens: x.p, completionTokens: x.c }, pr), 0n);
        const total = costOf({ promptTokens: calls.reduce((s, x) => s + x.p, 0), completionTokens: calls.reduce((s, x) => s + x.c, 0) }, pr);
        return each === total && each >= 0n;
      }),
    );
  });

  it('reserves at least what any settle within the request limits can cost (reserve ≥ settle)', () => {
    // Any split of the prompt into uncached, cache reads and both cache writes, at any prices.
    const split = fc.tuple(fc.nat(100), fc.nat(100), fc.nat(100));
    fc.assert(
      fc.property(prices, fc.nat(100_000), fc.nat(100_000), split, fc.nat(100), (pr, counted, maxTokens, [c, w, w1h], pct) => {
        const reserved = worstCaseCost(promptReserveTokens(counted), maxTokens, pr);
        const actualPrompt = Math.floor((counted * (100 + pct / 4)) / 100); // up to 25% more than our tokenizer counted
        const part = (share: number) => Math.floor((actualPrompt * share) / 300);
        const actual = costOf(
          { promptTokens: actualPrompt, completionTokens: Math.floor((maxTokens * pct) / 100), cachedTokens: part(c), cacheWriteTokens: part(w), cacheWrite1hTokens: part(w1h) },
          pr,
        );
        return actual <= reserved;
      }),
    );
  });
});
