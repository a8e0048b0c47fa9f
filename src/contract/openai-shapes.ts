// The OpenAI response shapes the gateway sends to clients. Every adapter
// produces exactly these, whatever its provider speaks.
import type { ToolCall } from './chat-request.js';

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /**
   * cached_tokens: part of prompt_tokens read from the provider's prompt
   * cache. The cache_write fields are the gateway's own (Anthropic reports
   * them): part of prompt_tokens written to the cache, at the 5-minute and
   * 1-hour TTL. prompt_tokens always counts every input token.
   */
  prompt_tokens_details?: { cached_tokens: number; cache_write_tokens?: number; cache_write_1h_tokens?: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

/**
 * A reasoning block as Anthropic signs it (LiteLLM's `thinking_blocks`
 * convention): what a later turn must send back unchanged for the upstream to
 * accept its own reasoning. `reasoning_content` holds the same text unsigned.
 */
export type ThinkingBlock = { type: 'thinking'; thinking: string; signature: string } | { type: 'redacted_thinking'; data: string };

export interface AssistantMessage {
  role: 'assistant';
  content: string | null;
  refusal: string | null;
  tool_calls?: ToolCall[];
  reasoning_content?: string;
  thinking_blocks?: ThinkingBlock[];
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  /** stop_sequence: which of the request's stop sequences ended the answer, when the upstream says. */
  choices: Array<{ index: number; message: AssistantMessage; logprobs: null; finish_reason: FinishReason; stop_sequence?: string }>;
  usage: Usage;
  system_fingerprint?: string;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  reasoning_content?: string;
  /** A thinking block's signature once its text has streamed (thinking ''), or a whole redacted block. */
  thinking_blocks?: ThinkingBlock[];
  tool_calls?: ToolCallDelta[];
  refusal?: string | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{ index: number; delta: ChunkDelta; logprobs?: null; finish_reason: FinishReason | null; stop_sequence?: string }>;
  usage?: Usage | null;
  system_fingerprint?: string;
}

export interface EmbeddingResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export function makeUsage(prompt: number, completion: number, cached = 0, reasoning = 0): Usage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}
