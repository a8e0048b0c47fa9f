import { describe, expect, it } from 'vitest';
import { countPromptTokens, countTextTokens } from '../../src/tokens/count-tokens.js';

describe('prompt token counts', () => {
  it('are the same whether a part is counted fresh or remembered from an earlier request', () => {
    const history = Array.from({ length: 50 }, (_, i) => `Turn ${i}: the quick brown fox jumps over the lazy dog, ${'é'.repeat(i)} again.`).join('\n');
    const tools = [{ type: 'function' as const, function: { name: 'lookup', description: 'x'.repeat(100), parameters: { type: 'object' } } }];
    const messages = [
      { role: 'system' as const, content: history },
      { role: 'user' as const, content: [{ type: 'text' as const, text: `${history} (as parts)` }] },
    ];
    const expected = 3 + 2 * 4 + countTextTokens(history) + countTextTokens(`${history} (as parts)`) + countTextTokens(JSON.stringify(tools));
    expect(countPromptTokens(messages, tools)).toBe(expected);
    expect(countPromptTokens(messages, tools)).toBe(expected);
    // A changed part is not confused with the remembered one.
    expect(countPromptTokens([{ role: 'system', content: `${history}!` }])).toBe(3 + 4 + countTextTokens(`${history}!`));
  });
});
