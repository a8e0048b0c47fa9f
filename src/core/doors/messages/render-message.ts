import { newId } from '../../../contract/ids.js';
import type { ChatCompletion } from '../../../contract/openai-shapes.js';
import { type MessagesUsage, messagesUsage } from './render-usage.js';
import { type StopReason, stopReason } from './stop-reason.js';

export type MessagesBlock =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface MessagesMessageObject {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: MessagesBlock[];
  stop_reason: StopReason;
  stop_sequence: string | null;
  usage: MessagesUsage;
}

/** An Anthropic message id: the upstream's own when it was one, else a new one. */
export const messageId = (upstreamId: string): string => (upstreamId.startsWith('msg_') ? upstreamId : newId('msg', 24));

/** Tool arguments as the object a tool_use block holds; arguments that are not a JSON object are kept under `arguments`. */
export function toolInput(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // An upstream's malformed arguments still reach the client.
  }
  return { arguments: args };
}

/** A chat completion as the Messages API's `message` object, under the model the client asked for. */
export function renderMessage(completion: ChatCompletion, model: string): MessagesMessageObject {
  const choice = completion.choices[0];
  const message = choice?.message;
  const content: MessagesBlock[] = [];
  if (message?.thinking_blocks && message.thinking_blocks.length > 0) content.push(...message.thinking_blocks);
  else if (message?.reasoning_content) content.push({ type: 'thinking', thinking: message.reasoning_content, signature: '' });
  if (message?.content) content.push({ type: 'text', text: message.content });
  for (const call of message?.tool_calls ?? []) content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call.function.arguments) });
  return {
    id: messageId(completion.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason(choice?.finish_reason, choice?.stop_sequence),
    stop_sequence: choice?.stop_sequence ?? null,
    usage: messagesUsage(completion.usage),
  };
}
