import { makeUsage, type Usage } from '../../contract/openai-shapes.js';
import type { AnthropicUsage } from './anthropic-response-schema.js';

/** Anthropic counts cached input apart from `input_tokens`; OpenAI's prompt_tokens includes it. */
export function convertAnthropicUsage(usage: AnthropicUsage): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + cacheRead + (usage.cache_creation_input_tokens ?? 0);
  return makeUsage(prompt, usage.output_tokens ?? 0, cacheRead);
}
