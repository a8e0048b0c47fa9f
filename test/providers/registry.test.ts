import { describe, expect, it } from 'vitest';
import { createProviderAdapters, defaultBaseUrl } from '../../src/providers/registry.js';

describe('provider registry', () => {
  it('has an adapter per provider, keyed by its id', () => {
    const adapters = createProviderAdapters();
    expect([...adapters.keys()].sort()).toEqual(['anthropic', 'deepseek', 'gemini', 'openai', 'openai-compatible']);
    for (const [key, adapter] of adapters) expect(adapter.id).toBe(key);
  });

  it('knows the official base URLs', () => {
    expect(defaultBaseUrl('openai')).toBe('https://api.openai.com/v1');
    expect(defaultBaseUrl('deepseek')).toBe('https://api.deepseek.com');
    expect(defaultBaseUrl('anthropic')).toBe('https://api.anthropic.com');
    expect(defaultBaseUrl('gemini')).toBe('https://generativelanguage.googleapis.com');
    expect(defaultBaseUrl('openai-compatible')).toBeUndefined();
  });
});
