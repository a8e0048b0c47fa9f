import { z } from 'zod';
import { identifierText } from './text-limits.js';

// The OpenAI Responses create body (POST /v1/responses) as the gateway
// accepts it. Loose objects: fields the spec adds later pass validation;
// the ones that would change what the model does and that the gateway
// cannot honour are refused by name (`refusedResponsesFields`), never
// dropped in silence.

const inputText = z.looseObject({ type: z.literal('input_text'), text: z.string() });
const inputImage = z.looseObject({
  type: z.literal('input_image'),
  image_url: z.string().min(1, 'must be an image URL or a data URL'),
  detail: z.enum(['auto', 'low', 'high']).nullish(),
});
const outputText = z.looseObject({ type: z.literal('output_text'), text: z.string() });
const refusal = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });

const PART_TYPES = "'input_text', 'input_image' (image_url), 'output_text' or 'refusal'";
const contentPart = z.discriminatedUnion('type', [inputText, inputImage, outputText, refusal], {
  error: (issue) =>
    issue.code === 'invalid_union' ? `content part type ${JSON.stringify((issue.input as { type?: unknown })?.type)} is not supported: use ${PART_TYPES}` : undefined,
});
export type ResponseContentPart = z.infer<typeof contentPart>;

const PART_TYPE_NAMES = ['input_text', 'input_image', 'output_text', 'refusal'];
/** A string or content parts; a wrong part is named by its index (a union reports at its own path). */
const textOrParts = z.union([z.string(), z.array(contentPart)], {
  error: (issue) => {
    if (!Array.isArray(issue.input)) return 'must be a string or a list of content parts';
    const at = issue.input.findIndex((p: unknown) => !PART_TYPE_NAMES.includes((p as { type?: unknown } | null)?.type as string));
    if (at >= 0) return `content part ${at} has type ${JSON.stringify((issue.input[at] as { type?: unknown } | null)?.type)}, which is not supported: use ${PART_TYPES}`;
    for (const [i, part] of issue.input.entries()) {
      const parsed = contentPart.safeParse(part);
      if (!parsed.success) {
        const first = parsed.error.issues[0]!;
        const field = first.path.map(String).join('.');
        return `content part ${i}${field ? ` field '${field}'` : ''}: ${first.message}${(part as { type?: unknown }).type === 'input_image' ? ' (an image is sent as image_url, a URL or a data URL; file ids are not served)' : ''}`;
      }
    }
    return 'a content part is not valid';
  },
});

const messageItem = z.looseObject({
  type: z.literal('message'),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: textOrParts,
  id: identifierText().optional(),
  status: z.string().nullish(),
});

const functionCallItem = z.looseObject({
  type: z.literal('function_call'),
  call_id: identifierText(),
  name: identifierText(),
  arguments: z.string(),
  id: identifierText().optional(),
  status: z.string().nullish(),
});

const functionCallOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: identifierText(),
  output: textOrParts,
  id: identifierText().nullish(),
  status: z.string().nullish(),
});

/** A reasoning item a client replays from an earlier answer: kept in the conversation, not sent upstream (its text is the provider's, often encrypted). */
const reasoningItem = z.looseObject({ type: z.literal('reasoning'), id: identifierText().optional(), summary: z.array(z.unknown()).optional() });

const ITEM_TYPES = "'message', 'function_call', 'function_call_output' or 'reasoning'";
const item = z.preprocess(
  // EasyInputMessage: `{ role, content }` without a type is a message.
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('type' in v) && 'role' in v ? { ...v, type: 'message' } : v),
  z.discriminatedUnion('type', [messageItem, functionCallItem, functionCallOutputItem, reasoningItem], {
    error: (issue) =>
      issue.code === 'invalid_union' ? `input item type ${JSON.stringify((issue.input as { type?: unknown })?.type)} is not supported: use ${ITEM_TYPES}` : undefined,
  }),
);
export type ResponseInputItem = z.infer<typeof item>;
export const responseInputItemSchema = item;

const functionTool = z.looseObject({
  type: z.literal('function', {
    error: (issue) =>
      `tool type ${JSON.stringify(issue.input)} is not supported: this gateway serves only 'function' tools (built-in tools run on OpenAI's side and have no equivalent on the other providers)`,
  }),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
export type ResponseFunctionTool = z.infer<typeof functionTool>;

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), name: identifierText() }),
], { error: () => "must be 'none', 'auto', 'required' or { type: 'function', name }" });

const textFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: identifierText(),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().nullish(),
    strict: z.boolean().nullish(),
  }),
]);

const metadata = z
  .record(z.string().max(64, 'keys must be at most 64 characters'), z.string().max(512, 'values must be at most 512 characters'))
  .refine((m) => Object.keys(m).length <= 16, 'must have at most 16 keys');

/** `include` values whose answer needs nothing the gateway lacks (there is no encrypted reasoning to include). */
const INCLUDABLE = ['reasoning.encrypted_content'] as const;

export const responsesRequestSchema = z.looseObject({
  model: identifierText(),
  // A string is one user message; as a list, each item's errors name its index.
  input: z.preprocess((v) => (typeof v === 'string' ? [{ type: 'message', role: 'user', content: v }] : v), z.array(item).min(1, 'must contain at least one item')),
  instructions: z.string().nullish(),
  tools: z.array(functionTool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  reasoning: z.looseObject({ effort: identifierText().nullish(), summary: z.enum(['auto', 'concise', 'detailed']).nullish() }).nullish(),
  text: z.looseObject({ format: textFormat.nullish(), verbosity: z.enum(['low', 'medium', 'high']).nullish() }).nullish(),
  metadata: metadata.nullish(),
  user: identifierText().nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  background: z.boolean().nullish(),
  previous_response_id: identifierText().nullish(),
  include: z
    .array(z.string())
    .nullish()
    .refine((v) => !v || v.every((x) => (INCLUDABLE as readonly string[]).includes(x)), { message: `only ${INCLUDABLE.map((x) => `'${x}'`).join(', ')} can be included` }),
  truncation: z.enum(['disabled', 'auto']).nullish(),
  prompt_cache_key: identifierText().nullish(),
  safety_identifier: identifierText().nullish(),
  // The gateway's own extensions, as on chat completions.
  timeout: z.number().positive().max(3600).nullish(),
  think: z.boolean().nullish(),
  deepsearch: z.boolean().nullish(),
}).superRefine((body, ctx) => {
  const refused = refusedResponsesField(body);
  if (refused) ctx.addIssue({ code: 'custom', path: [refused[0]], message: refused[1] });
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;

/**
 * Fields of the create body that would change the answer and that the
 * gateway cannot honour, with why; a body setting one gets a 400 naming it.
 */
export const REFUSED_RESPONSES_FIELDS: Record<string, (value: unknown) => string | undefined> = {
  conversation: () => 'the Conversations API is not served; chain turns with previous_response_id',
  prompt: () => 'stored prompt templates are not served; send instructions and input',
  top_logprobs: (v) => (v ? 'log probabilities are not returned by the Responses door' : undefined),
  truncation: (v) => (v === 'auto' ? "truncation 'auto' is not supported: the conversation is sent whole ('disabled')" : undefined),
  context_management: () => 'server-side context management is not supported',
};

/** The first refused field a body sets, as [field, reason]. */
function refusedResponsesField(body: Record<string, unknown>): [string, string] | undefined {
  for (const [field, reason] of Object.entries(REFUSED_RESPONSES_FIELDS)) {
    if (body[field] == null) continue;
    const why = reason(body[field]);
    if (why) return [field, why];
  }
  return undefined;
}
