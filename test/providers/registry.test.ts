import { describe, expect, it } from 'vitest';
import { createProviderAdapters, defaultBaseUrl, providerInfos } from '../../src/providers/registry.js';

describe('provider registry', () => {
  it('has an adapter per provider, keyed by the id its info declares', () => {
    const adapters = createProviderAdapters();
    expect([...adapters.keys()].sort()).toEqual(['anthropic', 'deepseek', 'gemini', 'openai', 'openai-compatible']);
    for (const [key, adapter] of adapters) expect(adapter.info.id).toBe(key);
    expect(providerInfos.map((info) => info.id)).toEqual([...adapters.keys()]);
  });

  it('knows the official base URLs', () => {
    expect(defaultBaseUrl('openai')).toBe('https://api.openai.com/v1');
    expect(defaultBaseUrl('deepseek')).toBe('https://api.deepseek.com');
    expect(defaultBaseUrl('anthropic')).toBe('https://api.anthropic.com');
    expect(defaultBaseUrl('gemini')).toBe('https://generativelanguage.googleapis.com');
    expect(defaultBaseUrl('openai-compatible')).toBeUndefined();
  });

  it('names the variable that seeds each provider with an official endpoint', () => {
    expect(Object.fromEntries(providerInfos.map((info) => [info.id, info.seedEnv]))).toEqual({
      openai: 'OPENAI_API_KEY',
      anthropic: 'ANTHROPIC_API_KEY',
      gemini: 'GEMINI_API_KEY',
      deepseek: 'DEEPSEEK_API_KEY',
      'openai-compatible': undefined,
    });
  });
});
