import { createAnthropicAdapter } from './anthropic/anthropic-adapter.js';
import { createGeminiAdapter } from './gemini/gemini-adapter.js';
import { createUpstreamAgent } from './http/upstream-agent.js';
import { MockAdapter } from './mock/mock-adapter.js';
import { createOpenAIAdapter } from './openai/openai-adapter.js';
import { deepseekDialect, openaiCompatibleDialect, openaiDialect } from './openai/openai-dialect.js';
import type { ProviderAdapter } from '../contract/provider.js';
import type { ProviderInfo } from '../contract/provider-info.js';
import type { ProviderSet } from '../contract/provider-set.js';

// Every upstream provider the gateway knows, one line each, in the order the
// console lists them. Adding a provider: its folder (an adapter whose `info`
// says who it is) and one line here.
const adapters: readonly ProviderAdapter[] = [
  createOpenAIAdapter(openaiDialect),
  createAnthropicAdapter(),
  createGeminiAdapter(),
  createOpenAIAdapter(deepseekDialect),
  createOpenAIAdapter(openaiCompatibleDialect),
];

/** What each registered provider declares about itself. */
export const providerInfos: readonly ProviderInfo[] = adapters.map((adapter) => adapter.info);

/** The real upstream adapters by provider id; the test-mode mock lives apart. */
export function createProviderAdapters(): Map<string, ProviderAdapter> {
  return new Map(adapters.map((adapter) => [adapter.info.id, adapter]));
}

/** What src/main.ts hands createGateway: the registered adapters, the mock, the upstream pool. */
export function defaultProviders(): ProviderSet {
  return { adapters: createProviderAdapters(), mock: new MockAdapter(), createAgent: createUpstreamAgent };
}

/** undefined for a provider whose keys always bring a base URL (openai-compatible), or one not registered. */
export function defaultBaseUrl(provider: string): string | undefined {
  return providerInfos.find((info) => info.id === provider)?.defaultBaseUrl;
}
