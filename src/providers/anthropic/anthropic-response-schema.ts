import { z } from 'zod';

// What the Messages API sends back, checked before use. Block types the
// gateway does not translate (server tool results) pass as `{type}` and are
// skipped.

export const anthropicUsageSchema = z.looseObject({
  input_tokens: z.number().int().nonnegative().nullish(),
  output_tokens: z.number().int().nonnegative().nullish(),
  cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
  cache_read_input_tokens: z.number().int().nonnegative().nullish(),
  // The cache writes by TTL; their sum is cache_creation_input_tokens.
  cache_creation: z
    .looseObject({
      ephemeral_5m_input_tokens: z.number().int().nonnegative().nullish(),
      ephemeral_1h_input_tokens: z.number().int().nonnegative().nullish(),
    })
    .nullish(),
});
export type AnthropicUsage = z.infer<typeof anthropicUsageSchema>;

export const textBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string() });
export const toolUseBlockSchema = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
});
export const thinkingBlockSchema = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().nullish() });
export const redactedThinkingBlockSchema = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });

const KNOWN_BLOCKS = { text: textBlockSchema, tool_use: toolUseBlockSchema, thinking: thinkingBlockSchema, redacted_thinking: redactedThinkingBlockSchema } as const;

export type AnthropicContentBlock =
  | z.infer<typeof textBlockSchema>
  | z.infer<typeof toolUseBlockSchema>
  | z.infer<typeof thinkingBlockSchema>
  | z.infer<typeof redactedThinkingBlockSchema>
  | { type: 'other'; upstreamType: string };

/** A known block must be well formed; any other only needs a type and is kept as `other`. */
export const contentBlockSchema = z.looseObject({ type: z.string() }).transform((block, ctx): AnthropicContentBlock => {
  const schema = KNOWN_BLOCKS[block.type as keyof typeof KNOWN_BLOCKS];
  if (!schema) return { type: 'other', upstreamType: block.type };
  const parsed = schema.safeParse(block);
  if (parsed.success) return parsed.data;
  ctx.addIssue({ code: 'custom', message: `malformed ${block.type} block` });
  return z.NEVER;
});

export const anthropicMessageSchema = z.looseObject({
  id: z.string(),
  type: z.literal('message').optional(),
  role: z.literal('assistant').optional(),
  model: z.string().nullish(),
  content: z.array(contentBlockSchema),
  stop_reason: z.string().nullish(),
  stop_sequence: z.string().nullish(),
  usage: anthropicUsageSchema,
});
export type AnthropicMessageResponse = z.infer<typeof anthropicMessageSchema>;
