import { z } from 'zod';
import { identifierText } from '../../../contract/text-limits.js';

// Anthropic's Messages API request as the gateway accepts it (the SDK's
// MessageCreateParams). Loose objects: fields this door does not translate
// are accepted and not passed on; content block types it cannot carry are
// refused by name.

const cacheControl = z.looseObject({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() }).nullish();

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string(), cache_control: cacheControl });
const imageSource = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('base64'), media_type: identifierText(), data: z.string().min(1) }),
  z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
]);
const imageBlock = z.looseObject({ type: z.literal('image'), source: imageSource, cache_control: cacheControl });
const documentSource = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('base64'), media_type: z.literal('application/pdf'), data: z.string().min(1) }),
  z.looseObject({ type: z.literal('text'), media_type: z.string().optional(), data: z.string() }),
  z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
]);
const documentBlock = z.looseObject({
  type: z.literal('document'),
  source: documentSource,
  title: z.string().nullish(),
  cache_control: cacheControl,
});
const toolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: identifierText(),
  name: identifierText(),
  input: z.record(z.string(), z.unknown()),
  cache_control: cacheControl,
});
const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: identifierText(),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, imageBlock, documentBlock]))]).optional(),
  is_error: z.boolean().nullish(),
  cache_control: cacheControl,
});
const thinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() });
const redactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });

export const contentBlock = z.discriminatedUnion('type', [
  textBlock,
  imageBlock,
  documentBlock,
  toolUseBlock,
  toolResultBlock,
  thinkingBlock,
  redactedThinkingBlock,
]);
export type MessagesContentBlock = z.infer<typeof contentBlock>;
export type MessagesTextBlock = z.infer<typeof textBlock>;
export type MessagesImageBlock = z.infer<typeof imageBlock>;
export type MessagesDocumentBlock = z.infer<typeof documentBlock>;

const message = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(contentBlock)]),
});
export type MessagesMessage = z.infer<typeof message>;

const customTool = z.looseObject({
  type: z.literal('custom').nullish(),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
  cache_control: cacheControl,
});
// Anthropic's server-side web search; the other server tools (bash, editor, code execution…) run on Anthropic alone.
const webSearchTool = z.looseObject({ type: z.string().startsWith('web_search_'), name: z.string(), max_uses: z.number().int().positive().optional() });
export const messagesTool = z.union([customTool, webSearchTool]);
export type MessagesTool = z.infer<typeof messagesTool>;

const toolChoice = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('none') }),
  z.looseObject({ type: z.literal('tool'), name: identifierText(), disable_parallel_tool_use: z.boolean().optional() }),
]);

const thinking = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('enabled'), budget_tokens: z.number().int().min(1024, 'must be at least 1024') }),
  z.looseObject({ type: z.literal('disabled') }),
  z.looseObject({ type: z.literal('adaptive') }),
]);

const system = z.union([z.string(), z.array(textBlock)]);

/** What both POST /v1/messages and count_tokens read. */
const promptFields = {
  model: identifierText(),
  messages: z.array(message).min(1, 'must contain at least one message'),
  system: system.optional(),
  tools: z.array(messagesTool).optional(),
  tool_choice: toolChoice.optional(),
  thinking: thinking.optional(),
};

export const messagesRequestSchema = z
  .looseObject({
    ...promptFields,
    // Required, as Anthropic requires it: the one output cap, reserved for and sent.
    max_tokens: z.number().int().positive(),
    stop_sequences: z.array(z.string()).optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().nonnegative().optional(),
    metadata: z.looseObject({ user_id: z.string().max(256).nullish() }).optional(),
    stream: z.boolean().optional(),
  })
  .superRefine((req, ctx) => {
    if (req.thinking?.type === 'enabled' && req.thinking.budget_tokens >= req.max_tokens) {
      ctx.addIssue({ code: 'custom', path: ['thinking', 'budget_tokens'], message: 'must be less than max_tokens' });
    }
  });
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

export const countTokensRequestSchema = z.looseObject(promptFields);
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;
