import { createAnthropicAdapter } from './anthropic/anthropic-adapter.js';
import { createGeminiAdapter } from './gemini/gemini-adapter.js';
import { createOpenAIAdapter } from './openai/openai-adapter.js';
import { deepseekDialect, openaiCompatibleDialect, openaiDialect } from './openai/openai-dialect.js';
import type { ProviderAdapter } from '../contract/provider.js';

// Base URLs as each provider's official SDK takes them: OpenAI's includes
// `/v1`, the others are origins and the adapter adds the path.
const BASE_URLS: Record<string, string> = {
  openai: 'https://api.openai.com/v1',
  deepseek: 'https://api.deepseek.com',
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
};

/** The real upstream adapters by provider name; the test-mode mock lives apart. */
export function createProviderAdapters(): Map<string, ProviderAdapter> {
  const adapters = [
    createOpenAIAdapter(openaiDialect),
    createOpenAIAdapter(deepseekDialect),
    createOpenAIAdapter(openaiCompatibleDialect),
    createAnthropicAdapter(),
    createGeminiAdapter(),
  ];
  return new Map(adapters.map((adapter) => [adapter.id, adapter]));
}

/** undefined for `openai-compatible`, whose base URL is always configured. */
export function defaultBaseUrl(provider: string): string | undefined {
  return BASE_URLS[provider];
}
