import { z } from 'zod';
import { identifierText } from './text-limits.js';

// The OpenAI Chat Completions request as the gateway accepts it. Loose
// objects: unknown fields pass through to OpenAI-compatible upstreams.

const textPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const imagePart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const audioPart = z.looseObject({
  type: z.literal('input_audio'),
  input_audio: z.looseObject({ data: z.string(), format: identifierText() }),
});
const filePart = z.looseObject({ type: z.literal('file'), file: z.looseObject({}) });
const refusalPart = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });

export const contentPart = z.discriminatedUnion('type', [textPart, imagePart, audioPart, filePart, refusalPart]);
export type ContentPart = z.infer<typeof contentPart>;

const toolCall = z.looseObject({
  id: identifierText(),
  type: z.literal('function'),
  function: z.looseObject({ name: identifierText(), arguments: z.string() }),
});
export type ToolCall = z.infer<typeof toolCall>;

const systemMessage = z.looseObject({
  role: z.enum(['system', 'developer']),
  content: z.union([z.string(), z.array(textPart)]),
  name: identifierText().optional(),
});
const userMessage = z.looseObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(contentPart)]),
  name: identifierText().optional(),
});
const assistantMessage = z.looseObject({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(z.union([textPart, refusalPart])), z.null()]).optional(),
  name: identifierText().optional(),
  tool_calls: z.array(toolCall).optional(),
  reasoning_content: z.string().nullish(),
  // Signed reasoning from an earlier answer (openai-shapes ThinkingBlock), replayed as is to Anthropic.
  thinking_blocks: z
    .array(
      z.union([
        z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() }),
        z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() }),
      ]),
    )
    .optional(),
});
const toolMessage = z.looseObject({
  role: z.literal('tool'),
  content: z.union([z.string(), z.array(textPart)]),
  tool_call_id: identifierText(),
});

export const chatMessage = z.discriminatedUnion('role', [systemMessage, userMessage, assistantMessage, toolMessage]);
export type ChatMessage = z.infer<typeof chatMessage>;

const functionTool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});
export type FunctionTool = z.infer<typeof functionTool>;

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: identifierText() }) }),
]);
export type ToolChoice = z.infer<typeof toolChoice>;

const responseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: identifierText(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
      description: z.string().optional(),
    }),
  }),
]);

export const chatRequestSchema = z.looseObject({
  model: identifierText(),
  messages: z.array(chatMessage).min(1, 'must contain at least one message'),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  tools: z.array(functionTool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
  seed: z.number().int().nullish(),
  user: identifierText().nullish(),
  reasoning_effort: identifierText().nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  // The seed's extensions.
  timeout: z.number().positive().max(3600).nullish(),
  think: z.boolean().nullish(),
  deepsearch: z.boolean().nullish(),
  /** A reasoning budget in tokens (the Messages door's thinking.budget_tokens); 0 turns reasoning off. Wins over think and reasoning_effort where the upstream takes a budget. */
  thinking_budget: z.number().int().nonnegative().nullish(),
  /** Google's safetySettings (the Gemini door's), sent on to Gemini upstreams only; others have no such control. */
  safety_settings: z.array(z.looseObject({})).nullish(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

/**
 * The output ceiling a request asked for, if any. When both fields are set
 * the smaller wins: it is the one the gateway reserves for and sends.
 */
export function requestedMaxTokens(req: ChatRequest): number | undefined {
  const a = req.max_completion_tokens ?? undefined;
  const b = req.max_tokens ?? undefined;
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/**
 * The per-choice output cap the gateway reserves for and sends upstream, the
 * only cap an upstream ever gets: what the request asked for, else `ceiling`
 * (the model's output ceiling).
 */
export const outputCap = (req: ChatRequest, ceiling: number): number => requestedMaxTokens(req) ?? ceiling;
