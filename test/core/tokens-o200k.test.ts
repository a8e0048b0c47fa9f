// src/core/tokens/o200k.ts builds gpt-tokenizer's o200k_base encoding from
// the package's .tiktoken file: it must be the encoding the package ships,
// rank for rank, and count and encode exactly as the package's own export.
import * as shipped from 'gpt-tokenizer';
import shippedRanks from 'gpt-tokenizer/bpeRanks/o200k_base';
import { describe, expect, it } from 'vitest';
import { countTokens, decode, encode, MERGE_CACHE_PIECES, o200k, readO200kRanks } from '../../src/tokens/o200k.js';

describe('o200k_base from the .tiktoken file', () => {
  it('has the ranks of gpt-tokenizer’s own module, entry by entry', () => {
    const ranks = readO200kRanks();
    expect(ranks.length).toBe(shippedRanks.length);
    let strings = 0;
    for (let i = 0; i < shippedRanks.length; i++) {
      const want = shippedRanks[i];
      if (typeof want === 'string') {
        strings++;
        if (ranks[i] !== want) expect({ rank: i, got: ranks[i] }).toEqual({ rank: i, got: want });
      } else {
        expect({ rank: i, got: ranks[i] }).toEqual({ rank: i, got: Array.from(want as ArrayLike<number>) });
      }
    }
    expect(strings).toBeGreaterThan(190_000);
  });

  it('counts, encodes and decodes as gpt-tokenizer does', () => {
    const texts = [
      '',
      'Hello bench',
      'The quick brown fox jumps over the lazy dog.',
      'Merhaba dünya! Привет, мир! こんにちは世界 🌍👩‍👩‍👧 你好，世界',
      '{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}',
      '    indented\n\tcode();\r\n// comment   \n\n\n',
      'a'.repeat(5000),
      'ﬁ ﬀ \u00ad\u200b\ufeff \ud83d', // ligatures, invisible characters, a lone surrogate
      Array.from({ length: 2000 }, (_, i) => String.fromCodePoint(32 + ((i * 7919) % 0x2fff))).join(''),
    ];
    for (const text of texts) {
      expect(countTokens(text)).toBe(shipped.countTokens(text));
      expect(encode(text)).toEqual(shipped.encode(text));
      expect(decode(encode(text))).toBe(shipped.decode(shipped.encode(text)));
    }
  });

  it('keeps at most MERGE_CACHE_PIECES pieces in gpt-tokenizer’s merge cache', () => {
    // Distinct letter-only words that are not tokens themselves: each one is a new cache entry.
    const letters = 'bcdfghjklmnpqrstvwxz';
    const word = (i: number) => {
      let w = 'q';
      for (let n = i; n > 0 || w.length < 4; n = Math.floor(n / letters.length)) w += letters[n % letters.length];
      return `${w}x`;
    };
    const text = Array.from({ length: MERGE_CACHE_PIECES + 5_000 }, (_, i) => word(i)).join(' ');
    expect(countTokens(text)).toBe(shipped.countTokens(text));
    // The cache is gpt-tokenizer's private state; if it moves, this should fail rather than pass unseen.
    const cache = (o200k as unknown as { bytePairEncodingCoreProcessor: { mergeCache?: Map<string, number[]> } }).bytePairEncodingCoreProcessor.mergeCache;
    expect(cache).toBeInstanceOf(Map);
    expect(cache!.size).toBeGreaterThan(MERGE_CACHE_PIECES / 2);
    expect(cache!.size).toBeLessThanOrEqual(MERGE_CACHE_PIECES);
  });
});
