import type { Usage } from '../../contract/openai-shapes.js';
import type { AnthropicUsage } from './anthropic-response-schema.js';

/**
 * Anthropic counts cache reads and writes apart from `input_tokens`; the
 * contract's prompt_tokens counts every input token, with the reads as
 * cached_tokens and the writes by TTL. Writes without a TTL breakdown are
 * 5-minute writes, the API's default.
 */
export function convertAnthropicUsage(usage: AnthropicUsage): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const breakdown = usage.cache_creation;
  const write1h = Math.min(cacheWrite, breakdown?.ephemeral_1h_input_tokens ?? 0);
  const write5m = cacheWrite - write1h;
  const prompt = (usage.input_tokens ?? 0) + cacheRead + cacheWrite;
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: {
      cached_tokens: cacheRead,
      ...(write5m > 0 ? { cache_write_tokens: write5m } : {}),
      ...(write1h > 0 ? { cache_write_1h_tokens: write1h } : {}),
    },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}
