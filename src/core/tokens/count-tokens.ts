// Token counts for reservations, for test mode and for upstreams that report
// no usage. o200k_base (GPT-4o family) is the reference tokenizer; for other
// providers it is an estimate, which is why reservations add a margin.
import { countTokens } from 'gpt-tokenizer';
import type { ChatMessage, FunctionTool } from '../chat/chat-request.js';

// OpenAI's documented framing overhead per message and per reply.
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;
// Low-detail image cost; a worst-case high-detail image is priced by the upstream, settled later.
const TOKENS_PER_IMAGE = 85;

export const countTextTokens = (text: string): number => (text.length === 0 ? 0 : countTokens(text));

function contentTokens(content: ChatMessage['content']): number {
  if (content == null) return 0;
  if (typeof content === 'string') return countTextTokens(content);
  let total = 0;
  for (const part of content) {
    if (part.type === 'text') total += countTextTokens(part.text);
    else if (part.type === 'refusal') total += countTextTokens(part.refusal);
    else if (part.type === 'image_url') total += TOKENS_PER_IMAGE;
    else total += countTextTokens(JSON.stringify(part));
  }
  return total;
}

export function countPromptTokens(messages: ChatMessage[], tools?: FunctionTool[] | null): number {
  let total = TOKENS_PER_REPLY;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + contentTokens(message.content);
    if ('name' in message && typeof message.name === 'string') total += countTextTokens(message.name);
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) {
        total += countTextTokens(call.function.name) + countTextTokens(call.function.arguments);
      }
    }
  }
  if (tools && tools.length > 0) total += countTextTokens(JSON.stringify(tools));
  return total;
}
