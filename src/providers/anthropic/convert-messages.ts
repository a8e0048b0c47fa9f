import type { ChatMessage, ContentPart } from '../../contract/chat-request.js';
import { isHttpUrl, parseBase64DataUrl } from '../http/parse-data-url.js';
import { ProviderError } from '../../contract/provider.js';

export type AnthropicBlock = Record<string, unknown> & { type: string };
export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}
export interface AnthropicPrompt {
  system: AnthropicBlock[];
  messages: AnthropicMessage[];
}

const invalid = (message: string) => new ProviderError(message, 'client', undefined, undefined, 400);

type TextLike = { type: string; text?: string; refusal?: string; cache_control?: unknown };

/** A part's `cache_control` (OpenAI-shaped parts carry it as OpenRouter and LiteLLM do), kept on the block it becomes. */
function withCacheControl(block: AnthropicBlock, from: object): AnthropicBlock {
  const cacheControl = (from as { cache_control?: unknown }).cache_control;
  // The key first (blocks are made here without it): keys a literal adds after a leading spread get a hidden class of their own (docs/design.md).
  return cacheControl != null ? { cache_control: cacheControl, ...block } : block;
}

const textBlocks = (content: string | TextLike[] | null | undefined): AnthropicBlock[] => {
  if (content == null) return [];
  if (typeof content === 'string') return content.length > 0 ? [{ type: 'text', text: content }] : [];
  // The Messages API rejects empty text blocks.
  return content.flatMap((p) => {
    const text = p.text ?? p.refusal ?? '';
    return text.length > 0 ? [withCacheControl({ type: 'text', text }, p)] : [];
  });
};

function imageBlock(url: string, where: string): AnthropicBlock {
  const data = parseBase64DataUrl(url);
  if (data) return { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.data } };
  if (isHttpUrl(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalid(`${where}: image_url must be an http(s) or base64 data: URL`);
}

function userBlock(part: ContentPart, where: string): AnthropicBlock | undefined {
  switch (part.type) {
    case 'text':
      return part.text.length > 0 ? withCacheControl({ type: 'text', text: part.text }, part) : undefined;
    case 'image_url':
      return withCacheControl(imageBlock(part.image_url.url, where), part);
    case 'file': {
      const fileData = (part.file as { file_data?: unknown }).file_data;
      const data = typeof fileData === 'string' ? parseBase64DataUrl(fileData) : undefined;
      if (data?.mediaType === 'application/pdf') {
        return withCacheControl({ type: 'document', source: { type: 'base64', media_type: data.mediaType, data: data.data } }, part);
      }
      throw invalid(`${where}: only PDF files sent as file_data data: URLs are supported by anthropic models`);
    }
    case 'input_audio':
      throw invalid(`${where}: input_audio is not supported by anthropic models`);
    case 'refusal':
      return { type: 'text', text: part.refusal };
  }
}

function toolUseBlock(call: { id: string; function: { name: string; arguments: string }; cache_control?: unknown }, where: string): AnthropicBlock {
  let input: unknown;
  try {
    input = call.function.arguments.trim() === '' ? {} : JSON.parse(call.function.arguments);
  } catch {
    throw invalid(`${where}.function.arguments is not valid JSON`);
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid(`${where}.function.arguments must be a JSON object`);
  }
  return withCacheControl({ type: 'tool_use', id: call.id, name: call.function.name, input }, call);
}

/** Signed reasoning replayed first in its turn, as Anthropic wants it back. */
const thinkingBlocks = (message: Extract<ChatMessage, { role: 'assistant' }>): AnthropicBlock[] =>
  (message.thinking_blocks ?? []).map((b) =>
    b.type === 'thinking' ? { type: 'thinking', thinking: b.thinking, signature: b.signature } : { type: 'redacted_thinking', data: b.data },
  );

/**
 * OpenAI messages as a Messages API prompt: system and developer text moves
 * to `system`, tool results become `tool_result` blocks in a user turn, and
 * consecutive turns of one role merge, since the API wants them alternating.
 */
export function convertToAnthropicPrompt(messages: ChatMessage[]): AnthropicPrompt {
  const system: AnthropicBlock[] = [];
  const turns: AnthropicMessage[] = [];
  const push = (role: AnthropicMessage['role'], blocks: AnthropicBlock[]) => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };

  messages.forEach((message, i) => {
    const where = `messages[${i}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message.content));
        break;
      case 'user':
        push(
          'user',
          typeof message.content === 'string'
            ? textBlocks(message.content)
            : message.content.flatMap((part, j) => userBlock(part, `${where}.content[${j}]`) ?? []),
        );
        break;
      case 'assistant':
        push('assistant', [
          ...thinkingBlocks(message),
          ...textBlocks(message.content),
          ...(message.tool_calls ?? []).map((call, j) => toolUseBlock(call, `${where}.tool_calls[${j}]`)),
        ]);
        break;
      case 'tool': {
        const content = textBlocks(message.content);
        const extra = message as { is_error?: unknown; cache_control?: unknown };
        const block: AnthropicBlock = withCacheControl({ type: 'tool_result', tool_use_id: message.tool_call_id }, extra);
        if (content.length > 0) block.content = content;
        if (extra.is_error === true) block.is_error = true;
        push('user', [block]);
        break;
      }
    }
  });
  return { system, messages: turns };
}

/**
 * True when the conversation is mid tool loop: the last assistant turn
 * called tools and only their results follow, and that turn has no signed
 * thinking blocks. With thinking on, Anthropic wants that turn to start with
 * its signed thinking block, which plain OpenAI history cannot carry.
 */
export function continuesToolLoop(messages: ChatMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'tool') continue;
    return m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0 && (m.thinking_blocks?.length ?? 0) === 0;
  }
  return false;
}
