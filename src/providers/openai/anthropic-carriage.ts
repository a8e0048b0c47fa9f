import type { ChatMessage, FunctionTool } from '../../contract/chat-request.js';

// What the chat request carries for an Anthropic upstream (the Messages door
// puts it there; chat clients may send cache_control as OpenRouter's
// convention has it): `cache_control` on content parts, tool calls, tool
// messages and tools, signed `thinking_blocks` and `is_error` on messages.
// OpenAI validates nested fields and refuses unknown ones ("Unknown
// parameter: 'messages[0].content[0].cache_control'"), so those upstreams get
// the request without them; an OpenAI-compatible server (OpenRouter,
// LiteLLM) reads them and gets them as sent.

const MESSAGE_FIELDS = ['cache_control', 'thinking_blocks', 'is_error'];

const hasCacheControl = (x: unknown): boolean => typeof x === 'object' && x !== null && 'cache_control' in x;

const carries = (m: ChatMessage): boolean =>
  MESSAGE_FIELDS.some((f) => f in m) ||
  (Array.isArray(m.content) && m.content.some(hasCacheControl)) ||
  (m.role === 'assistant' && (m.tool_calls ?? []).some(hasCacheControl));

function without<T extends object>(x: T, fields: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(x)) if (!fields.includes(key)) out[key] = (x as Record<string, unknown>)[key];
  return out as T;
}

const plainPart = <T>(p: T): T => (hasCacheControl(p) ? without(p as object, ['cache_control']) : p) as T;

/** `messages` without the carriage, copied only when some message has it. */
export function messagesWithoutCarriage(messages: ChatMessage[]): ChatMessage[] {
  if (!messages.some(carries)) return messages;
  return messages.map((m) => {
    if (!carries(m)) return m;
    const out = without(m, MESSAGE_FIELDS) as Record<string, unknown>;
    if (Array.isArray(out.content)) out.content = out.content.map(plainPart);
    if (Array.isArray(out.tool_calls)) out.tool_calls = out.tool_calls.map(plainPart);
    return out as ChatMessage;
  });
}

/** `tools` without `cache_control`, copied only when a tool has it. */
export const toolsWithoutCarriage = (tools: FunctionTool[]): FunctionTool[] => (tools.some(hasCacheControl) ? tools.map(plainPart) : tools);
