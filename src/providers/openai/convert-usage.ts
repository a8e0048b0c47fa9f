import { makeUsage, type Usage } from '../../contract/openai-shapes.js';
import type { OpenAIUsage } from './openai-response-schema.js';

/**
 * OpenAI reports cache reads only (its writes cost plain input); an
 * OpenAI-wire upstream that reports writes too (another gateway, OpenRouter)
 * has them carried, so they are priced as writes.
 */
export function convertOpenAIUsage(usage: OpenAIUsage): Usage {
  const completion = usage.completion_tokens ?? Math.max(0, (usage.total_tokens ?? usage.prompt_tokens) - usage.prompt_tokens);
  const details = usage.prompt_tokens_details;
  const out = makeUsage(usage.prompt_tokens, completion, details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? 0, usage.completion_tokens_details?.reasoning_tokens ?? 0);
  const write = details?.cache_write_tokens ?? 0;
  const write1h = details?.cache_write_1h_tokens ?? 0;
  if ((write > 0 || write1h > 0) && out.prompt_tokens_details) {
    if (write > 0) out.prompt_tokens_details.cache_write_tokens = write;
    if (write1h > 0) out.prompt_tokens_details.cache_write_1h_tokens = write1h;
  }
  return out;
}
