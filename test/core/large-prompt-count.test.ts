// Issue 20, finding 3: counting a large prompt must not hold the event loop.
// The estimate that admission and reservation use counts within a small
// budget and stands bytes in for the rest; the exact count of a large prompt
// is made on a worker thread; long pieces merge in O(n log n).
import * as shipped from 'gpt-tokenizer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countPromptTokens, countPromptTokensExact, countTextsTokensExact, estimatePromptTokens } from '../../src/tokens/count-tokens.js';
import { countTokens, encode, LONG_PIECE_CHARS } from '../../src/tokens/o200k.js';

/** Text the tokenizer must merge piece by piece: random lowercase words and CJK runs, unseen before. */
function costlyText(chars: number, seed: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const cjk = '的一是不了人我在有他这为之大来以个中上们';
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  let out = '';
  while (out.length < chars) {
    const alphabet = next() % 4 === 0 ? cjk : letters;
    const length = 3 + (next() % 9);
    for (let i = 0; i < length; i++) out += alphabet[next() % alphabet.length];
    out += ' ';
  }
  return out.slice(0, chars);
}

describe('long pieces', () => {
  it('encode as gpt-tokenizer does, for pieces past LONG_PIECE_CHARS', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', 'z', 'é', '的', '!', '-', '0', ' ', '\n', '🎉'), minLength: LONG_PIECE_CHARS, maxLength: 600 }), (text) => {
        expect(encode(text)).toEqual(shipped.encode(text));
      }),
      { numRuns: 60 },
    );
    const runs = ['x'.repeat(2000), 'ab'.repeat(700), '的'.repeat(900), '!?'.repeat(500), ' '.repeat(1500), `!${'\n'.repeat(700)}`];
    for (const text of runs) expect(encode(text)).toEqual(shipped.encode(text));
  });

  it('cost linear time: 200,000 characters of one run count in seconds, not hours', () => {
    // Quadratic merging took ~39 s for 65,536 such characters and would take ~6 hours for 4 MB.
    const run = costlyText(200_000, 7).replace(/ /g, '');
    expect(countTokens(run)).toBeGreaterThan(10_000);
  }, 20_000);
});

describe('the bytes bound', () => {
  it('is at least the o200k count of any text, special-token strings included', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('<|endoftext|>', 'x<|endofprompt|>y', '<|endoftext|><|endoftext|>')), (text) => {
        expect(countTokens(text)).toBeLessThanOrEqual(Buffer.byteLength(text, 'utf8'));
      }),
      { numRuns: 300 },
    );
  });

  it('special-token strings are text, not an error', () => {
    expect(() => countTokens('please ignore <|endoftext|> and go on')).not.toThrow();
    expect(countTokens('<|endoftext|>')).toBeGreaterThan(1);
  });
});

describe('the estimate admission and reservation use', () => {
  it('is the exact count for a small prompt', () => {
    const messages = [
      { role: 'system' as const, content: 'You are a careful assistant.' },
      { role: 'user' as const, content: costlyText(200, 1) },
    ];
    expect(estimatePromptTokens(messages)).toBe(countPromptTokens(messages));
    expect(countPromptTokensExact(messages)).toBe(countPromptTokens(messages));
  });

  it('stands the UTF-8 bytes in for a large part it does not count, and never undercounts', () => {
    const big = costlyText(400_000, 2);
    const messages = [
      { role: 'system' as const, content: 'short system prompt' },
      { role: 'user' as const, content: big },
    ];
    const small = countPromptTokens([messages[0]!]);
    // Framing: 3 for the reply, 4 for each message.
    expect(estimatePromptTokens(messages)).toBe(small + 4 + Buffer.byteLength(big, 'utf8'));
  });

  it('counts a large prompt exactly on a worker thread, and remembers it for the next turn', async () => {
    const big = costlyText(150_000, 3);
    const messages = [{ role: 'user' as const, content: big }];
    const counted = countPromptTokensExact(messages);
    expect(counted).toBeInstanceOf(Promise);
    const exact = 3 + 4 + shipped.countTokens(big);
    expect(await counted).toBe(exact);
    expect(estimatePromptTokens(messages)).toBe(exact);
    const inputs = [costlyText(120_000, 4), 'small'];
    expect(await countTextsTokensExact(inputs)).toBe(shipped.countTokens(inputs[0]!) + shipped.countTokens('small'));
  }, 30_000);

  it('does not count a 4 MB prompt on the event loop', () => {
    const messages = [{ role: 'user' as const, content: costlyText(4_000_000, 5) }];
    // Before this, the estimate was the exact count: seconds (minutes for text like this) of blocked loop.
    const started = performance.now();
    const estimate = estimatePromptTokens(messages);
    const ms = performance.now() - started;
    expect(estimate).toBe(3 + 4 + Buffer.byteLength(messages[0]!.content, 'utf8'));
    expect(ms).toBeLessThan(100);
  });
});
