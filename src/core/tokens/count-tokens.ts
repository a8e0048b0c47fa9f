// Token counts for reservations, for test mode and for upstreams that report
// no usage. o200k_base (GPT-4o family) is the reference tokenizer; for other
// providers it is an estimate, which is why reservations add a margin.
import { countTokens } from './o200k.js';
import { LRUCache } from 'lru-cache';
import type { ChatMessage, FunctionTool } from '../chat/chat-request.js';

// OpenAI's documented framing overhead per message and per reply.
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;
// Low-detail image cost; a worst-case high-detail image is priced by the upstream, settled later.
const TOKENS_PER_IMAGE = 85;

export const countTextTokens = (text: string): number => (text.length === 0 ? 0 : countTokens(text));

// A chat resends its whole history every turn, and system prompts and tool
// lists repeat across requests: prompt parts are counted once and remembered
// (bounded by total characters held). Short parts are cheaper to count again.
const CACHE_FROM_CHARS = 64;
const promptPartCounts = new LRUCache<string, number>({ maxSize: 4_000_000, sizeCalculation: (_count, text) => text.length });

function promptPartTokens(text: string): number {
  if (text.length < CACHE_FROM_CHARS) return countTextTokens(text);
  let count = promptPartCounts.get(text);
  if (count === undefined) promptPartCounts.set(text, (count = countTokens(text)));
  return count;
}

function contentTokens(content: ChatMessage['content']): number {
  if (content == null) return 0;
  if (typeof content === 'string') return promptPartTokens(content);
  let total = 0;
  for (const part of content) {
    if (part.type === 'text') total += promptPartTokens(part.text);
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
        total += countTextTokens(call.function.name) + promptPartTokens(call.function.arguments);
      }
    }
  }
  if (tools && tools.length > 0) total += promptPartTokens(JSON.stringify(tools));
  return total;
}
