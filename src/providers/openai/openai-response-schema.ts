import { z } from 'zod';

// What OpenAI-wire upstreams send back, checked before use. Compatible
// servers add fields; only the ones the gateway reads are named, and the rest
// are dropped (z.object strips), not copied: every stream chunk goes through
// this, and the translators build their output from named fields anyway.

export const openaiUsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative().nullish(),
  total_tokens: z.number().int().nonnegative().nullish(),
  // cache_write_*: another gateway of ours (or OpenRouter, which names its writes the same) reports cache writes here.
  prompt_tokens_details: z
    .object({ cached_tokens: z.number().int().nullish(), cache_write_tokens: z.number().int().nullish(), cache_write_1h_tokens: z.number().int().nullish() })
    .nullish(),
  completion_tokens_details: z.object({ reasoning_tokens: z.number().int().nullish() }).nullish(),
  // DeepSeek reports its context cache this way.
  prompt_cache_hit_tokens: z.number().int().nullish(),
});
export type OpenAIUsage = z.infer<typeof openaiUsageSchema>;

const toolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function').nullish(),
  function: z.object({ name: z.string(), arguments: z.string().nullish() }),
});

export const openaiCompletionSchema = z.object({
  id: z.string().nullish(),
  created: z.number().nullish(),
  model: z.string().nullish(),
  system_fingerprint: z.string().nullish(),
  choices: z.array(
    z.object({
      index: z.number().int().nullish(),
      message: z.object({
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        tool_calls: z.array(toolCallSchema).nullish(),
        reasoning_content: z.string().nullish(),
        // vLLM, Ollama and OpenRouter call it `reasoning`.
        reasoning: z.string().nullish(),
        annotations: z.array(z.unknown()).nullish(),
      }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: openaiUsageSchema.nullish(),
});
export type OpenAICompletion = z.infer<typeof openaiCompletionSchema>;

export const openaiChunkSchema = z.object({
  id: z.string().nullish(),
  created: z.number().nullish(),
  model: z.string().nullish(),
  system_fingerprint: z.string().nullish(),
  choices: z
    .array(
      z.object({
        index: z.number().int().nullish(),
        delta: z
          .looseObject({
            role: z.string().nullish(),
            content: z.string().nullish(),
            refusal: z.string().nullish(),
            reasoning_content: z.string().nullish(),
            reasoning: z.string().nullish(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number().int().nullish(),
                  id: z.string().nullish(),
                  type: z.string().nullish(),
                  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: openaiUsageSchema.nullish(),
  error: z.unknown().optional(),
});
export type OpenAIChunk = z.infer<typeof openaiChunkSchema>;

export const openaiEmbeddingResponseSchema = z.object({
  data: z.array(z.object({ index: z.number().int().nullish(), embedding: z.array(z.number()) })),
  model: z.string().nullish(),
  usage: z.object({ prompt_tokens: z.number().int().nonnegative(), total_tokens: z.number().int().nullish() }).nullish(),
});
