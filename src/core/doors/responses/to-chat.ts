import type { ChatMessage, ChatRequest, ContentPart, ToolCall } from '../../../contract/chat-request.js';
import type { ResponseContentPart, ResponseInputItem, ResponsesRequest } from '../../../contract/responses-request.js';

// A Responses request as the gateway's one internal request (OpenAI chat
// completions' shape), which every adapter already translates for its
// provider. OpenAI upstreams are called through chat completions too, not
// their own /responses: one mapping serves every provider, and the usage
// the gateway meters is the one it already meters for chat. What a
// provider cannot honour it refuses by name, as for chat.

/** This turn's input as items (the schema made a string one user message). */
export const inputItems = (req: ResponsesRequest): ResponseInputItem[] => req.input;

const partText = (part: ResponseContentPart): string => {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return part.text;
    case 'refusal':
      return part.refusal;
    case 'input_image':
      return '';
  }
};

const joinedText = (content: string | ResponseContentPart[]): string => (typeof content === 'string' ? content : content.map(partText).join(''));

const userContent = (content: string | ResponseContentPart[]): string | ContentPart[] =>
  typeof content === 'string'
    ? content
    : content.map((part): ContentPart =>
        part.type === 'input_image'
          ? { type: 'image_url', image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) } }
          : { type: 'text', text: partText(part) },
      );

/** The conversation (earlier turns, then this input) as chat messages, instructions first. */
export function toChatMessages(instructions: string | null | undefined, items: readonly ResponseInputItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (instructions) messages.push({ role: 'system', content: instructions });
  // Function calls join the assistant message they follow, as one chat turn with tool_calls.
  let assistant: (ChatMessage & { role: 'assistant' }) | undefined;
  for (const item of items) {
    switch (item.type) {
      case 'message':
        if (item.role === 'assistant') {
          assistant = { role: 'assistant', content: joinedText(item.content) };
          messages.push(assistant);
          continue;
        }
        if (item.role === 'user') messages.push({ role: 'user', content: userContent(item.content) });
        else messages.push({ role: item.role, content: joinedText(item.content) });
        break;
      case 'function_call': {
        const call: ToolCall = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
        if (!assistant) {
          assistant = { role: 'assistant', content: null };
          messages.push(assistant);
        }
        assistant.tool_calls = [...(assistant.tool_calls ?? []), call];
        continue;
      }
      case 'function_call_output':
        messages.push({ role: 'tool', tool_call_id: item.call_id, content: joinedText(item.output) });
        break;
      case 'reasoning':
        // The provider's own reasoning of an earlier turn: nothing an upstream of another kind could read.
        continue;
    }
    assistant = undefined;
  }
  return messages;
}

const responseFormat = (req: ResponsesRequest): ChatRequest['response_format'] => {
  const format = req.text?.format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  return {
    type: 'json_schema',
    json_schema: {
      name: format.name,
      schema: format.schema,
      ...(format.strict != null ? { strict: format.strict } : {}),
      ...(format.description ? { description: format.description } : {}),
    },
  };
};

const toolChoice = (req: ResponsesRequest): ChatRequest['tool_choice'] => {
  const choice = req.tool_choice;
  if (choice == null || typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
};

/** Sets `key` only when `value` is set: the internal request carries no nulls an adapter would have to skip. */
const set = <T extends object>(out: T, key: string, value: unknown): void => {
  if (value != null) (out as Record<string, unknown>)[key] = value;
};

/**
 * The internal chat request a Responses request means, given the earlier
 * turns of its `previous_response_id` chain (the whole conversation is the
 * input, sent and billed as such). `max_output_tokens` is the one output
 * cap, as `max_completion_tokens`; `reasoning.effort` is `reasoning_effort`,
 * which each adapter maps as it maps `think`.
 */
export function toChatRequest(req: ResponsesRequest, prior: readonly ResponseInputItem[] = []): ChatRequest {
  const out: ChatRequest = { model: req.model, messages: toChatMessages(req.instructions, [...prior, ...inputItems(req)]) };
  set(out, 'stream', req.stream === true ? true : undefined);
  set(out, 'max_completion_tokens', req.max_output_tokens);
  set(out, 'temperature', req.temperature);
  set(out, 'top_p', req.top_p);
  if (req.tools && req.tools.length > 0) {
    out.tools = req.tools.map((t) => ({
      type: 'function' as const,
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        ...(t.parameters ? { parameters: t.parameters } : {}),
        ...(t.strict != null ? { strict: t.strict } : {}),
      },
    }));
  }
  set(out, 'tool_choice', toolChoice(req));
  set(out, 'parallel_tool_calls', req.parallel_tool_calls);
  set(out, 'response_format', responseFormat(req));
  set(out, 'reasoning_effort', req.reasoning?.effort);
  set(out, 'user', req.user);
  set(out, 'timeout', req.timeout);
  set(out, 'think', req.think);
  set(out, 'deepsearch', req.deepsearch);
  // Hints an OpenAI upstream honours and the other adapters leave out.
  set(out, 'verbosity', req.text?.verbosity);
  set(out, 'prompt_cache_key', req.prompt_cache_key);
  set(out, 'safety_identifier', req.safety_identifier);
  return out;
}
