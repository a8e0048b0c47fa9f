import { makeUsage, type Usage } from '../../contract/openai-shapes.js';
import type { OpenAIUsage } from './openai-response-schema.js';

export function convertOpenAIUsage(usage: OpenAIUsage): Usage {
  const completion = usage.completion_tokens ?? Math.max(0, (usage.total_tokens ?? usage.prompt_tokens) - usage.prompt_tokens);
  return makeUsage(
    usage.prompt_tokens,
    completion,
    usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? 0,
    usage.completion_tokens_details?.reasoning_tokens ?? 0,
  );
}
