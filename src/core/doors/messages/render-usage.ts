import type { Usage } from '../../../contract/openai-shapes.js';

/** Anthropic's usage block: input_tokens is what was neither read from nor written to the cache. */
export interface MessagesUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

/** The contract's usage (prompt_tokens counts every input token) in Anthropic's terms; never a negative count. */
export function messagesUsage(usage: Usage | null | undefined): MessagesUsage {
  const details = usage?.prompt_tokens_details;
  const read = details?.cached_tokens ?? 0;
  const write5m = details?.cache_write_tokens ?? 0;
  const write1h = details?.cache_write_1h_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - read - write5m - write1h),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_creation_input_tokens: write5m + write1h,
    cache_read_input_tokens: read,
    cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
  };
}
