// The models a fresh deployment knows, with list prices per 1M tokens (USD).
// Data, not code: operators change it through the admin API afterwards.
// Cache writes: Anthropic charges 1.25 × input (5-minute TTL) and 2 × input
// (1-hour); OpenAI, Gemini's implicit cache and DeepSeek charge a written
// prompt as plain input, so their write prices are the input price (and their
// reservations are not raised for writes they never bill).
import type { ModelCapabilities } from '../../db/schema.js';

export interface CatalogueSeed {
  id: string;
  kind: 'chat' | 'embedding';
  ownedBy: string;
  inputPrice: string;
  outputPrice: string;
  cachedInputPrice?: string;
  /** Writing the prompt cache, 5-minute and 1-hour TTLs; unset = 1.25 × and 2 × input. */
  cacheWritePrice?: string;
  cacheWrite1hPrice?: string;
  contextWindow?: number;
  maxOutputTokens?: number;
  dimensions?: number;
  fallbacks?: string[];
  capabilities?: ModelCapabilities;
  routes: Array<{ provider: string; upstreamModel: string }>;
}

const chat = { tools: true, vision: true } satisfies ModelCapabilities;

export const defaultCatalogue: CatalogueSeed[] = [
  { id: 'gpt-4o-mini', kind: 'chat', ownedBy: 'openai', inputPrice: '0.15', outputPrice: '0.6', cachedInputPrice: '0.075', cacheWritePrice: '0.15', cacheWrite1hPrice: '0.15', contextWindow: 128000, maxOutputTokens: 16384, capabilities: chat, routes: [{ provider: 'openai', upstreamModel: 'gpt-4o-mini' }] },
  { id: 'gpt-4o', kind: 'chat', ownedBy: 'openai', inputPrice: '2.5', outputPrice: '10', cachedInputPrice: '1.25', cacheWritePrice: '2.5', cacheWrite1hPrice: '2.5', contextWindow: 128000, maxOutputTokens: 16384, capabilities: { ...chat, webSearch: true }, routes: [{ provider: 'openai', upstreamModel: 'gpt-4o' }] },
  { id: 'gpt-4.1-mini', kind: 'chat', ownedBy: 'openai', inputPrice: '0.4', outputPrice: '1.6', cachedInputPrice: '0.1', cacheWritePrice: '0.4', cacheWrite1hPrice: '0.4', contextWindow: 1047576, maxOutputTokens: 32768, capabilities: chat, routes: [{ provider: 'openai', upstreamModel: 'gpt-4.1-mini' }] },
  { id: 'o4-mini', kind: 'chat', ownedBy: 'openai', inputPrice: '1.1', outputPrice: '4.4', cachedInputPrice: '0.275', cacheWritePrice: '1.1', cacheWrite1hPrice: '1.1', contextWindow: 200000, maxOutputTokens: 100000, capabilities: { ...chat, reasoning: true }, routes: [{ provider: 'openai', upstreamModel: 'o4-mini' }] },
  { id: 'text-embedding-3-small', kind: 'embedding', ownedBy: 'openai', inputPrice: '0.02', outputPrice: '0', dimensions: 1536, routes: [{ provider: 'openai', upstreamModel: 'text-embedding-3-small' }] },
  { id: 'text-embedding-3-large', kind: 'embedding', ownedBy: 'openai', inputPrice: '0.13', outputPrice: '0', dimensions: 3072, routes: [{ provider: 'openai', upstreamModel: 'text-embedding-3-large' }] },
  { id: 'claude-sonnet-4-5', kind: 'chat', ownedBy: 'anthropic', inputPrice: '3', outputPrice: '15', cachedInputPrice: '0.3', cacheWritePrice: '3.75', cacheWrite1hPrice: '6', contextWindow: 200000, maxOutputTokens: 64000, capabilities: { ...chat, reasoning: true, webSearch: true }, routes: [{ provider: 'anthropic', upstreamModel: 'claude-sonnet-4-5' }] },
  { id: 'claude-haiku-4-5', kind: 'chat', ownedBy: 'anthropic', inputPrice: '1', outputPrice: '5', cachedInputPrice: '0.1', cacheWritePrice: '1.25', cacheWrite1hPrice: '2', contextWindow: 200000, maxOutputTokens: 64000, capabilities: { ...chat, reasoning: true, webSearch: true }, fallbacks: ['gpt-4o-mini'], routes: [{ provider: 'anthropic', upstreamModel: 'claude-haiku-4-5' }] },
  { id: 'gemini-2.0-flash', kind: 'chat', ownedBy: 'google', inputPrice: '0.1', outputPrice: '0.4', cachedInputPrice: '0.025', cacheWritePrice: '0.1', cacheWrite1hPrice: '0.1', contextWindow: 1048576, maxOutputTokens: 8192, capabilities: { ...chat, webSearch: true }, fallbacks: ['gemini-2.5-flash'], routes: [{ provider: 'gemini', upstreamModel: 'gemini-2.0-flash' }] },
  { id: 'gemini-2.5-flash', kind: 'chat', ownedBy: 'google', inputPrice: '0.3', outputPrice: '2.5', cachedInputPrice: '0.075', cacheWritePrice: '0.3', cacheWrite1hPrice: '0.3', contextWindow: 1048576, maxOutputTokens: 65536, capabilities: { ...chat, reasoning: true, webSearch: true }, routes: [{ provider: 'gemini', upstreamModel: 'gemini-2.5-flash' }] },
  { id: 'gemini-2.5-pro', kind: 'chat', ownedBy: 'google', inputPrice: '1.25', outputPrice: '10', cachedInputPrice: '0.31', cacheWritePrice: '1.25', cacheWrite1hPrice: '1.25', contextWindow: 1048576, maxOutputTokens: 65536, capabilities: { ...chat, reasoning: true, webSearch: true }, routes: [{ provider: 'gemini', upstreamModel: 'gemini-2.5-pro' }] },
  { id: 'text-embedding-004', kind: 'embedding', ownedBy: 'google', inputPrice: '0.01', outputPrice: '0', dimensions: 768, routes: [{ provider: 'gemini', upstreamModel: 'text-embedding-004' }] },
  { id: 'deepseek-chat', kind: 'chat', ownedBy: 'deepseek', inputPrice: '0.27', outputPrice: '1.1', cachedInputPrice: '0.07', cacheWritePrice: '0.27', cacheWrite1hPrice: '0.27', contextWindow: 65536, maxOutputTokens: 8192, capabilities: { tools: true }, routes: [{ provider: 'deepseek', upstreamModel: 'deepseek-chat' }] },
  { id: 'deepseek-reasoner', kind: 'chat', ownedBy: 'deepseek', inputPrice: '0.55', outputPrice: '2.19', cachedInputPrice: '0.14', cacheWritePrice: '0.55', cacheWrite1hPrice: '0.55', contextWindow: 65536, maxOutputTokens: 32768, capabilities: { reasoning: true }, routes: [{ provider: 'deepseek', upstreamModel: 'deepseek-reasoner' }] },
];
