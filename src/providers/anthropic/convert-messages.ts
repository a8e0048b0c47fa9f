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

const textBlocks = (content: string | Array<{ type: string; text?: string; refusal?: string }> | null | undefined): AnthropicBlock[] => {
  if (content == null) return [];
  const texts = typeof content === 'string' ? [content] : content.map((p) => p.text ?? p.refusal ?? '');
  // The Messages API rejects empty text blocks.
  return texts.filter((text) => text.length > 0).map((text) => ({ type: 'text', text }));
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
      return part.text.length > 0 ? { type: 'text', text: part.text } : undefined;
    case 'image_url':
      return imageBlock(part.image_url.url, where);
    case 'file': {
      const fileData = (part.file as { file_data?: unknown }).file_data;
      const data = typeof fileData === 'string' ? parseBase64DataUrl(fileData) : undefined;
      if (data?.mediaType === 'application/pdf') {
        return { type: 'document', source: { type: 'base64', media_type: data.mediaType, data: data.data } };
      }
      throw invalid(`${where}: only PDF files sent as file_data data: URLs are supported by anthropic models`);
    }
    case 'input_audio':
      throw invalid(`${where}: input_audio is not supported by anthropic models`);
    case 'refusal':
      return { type: 'text', text: part.refusal };
  }
}

function toolUseBlock(call: { id: string; function: { name: string; arguments: string } }, where: string): AnthropicBlock {
  let input: unknown;
  try {
    input = call.function.arguments.trim() === '' ? {} : JSON.parse(call.function.arguments);
  } catch {
    throw invalid(`${where}.function.arguments is not valid JSON`);
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid(`${where}.function.arguments must be a JSON object`);
  }
  return { type: 'tool_use', id: call.id, name: call.function.name, input };
}

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
          ...textBlocks(message.content),
          ...(message.tool_calls ?? []).map((call, j) => toolUseBlock(call, `${where}.tool_calls[${j}]`)),
        ]);
        break;
      case 'tool': {
        const content = textBlocks(message.content);
        const block: AnthropicBlock = { type: 'tool_result', tool_use_id: message.tool_call_id };
        if (content.length > 0) block.content = content;
        push('user', [block]);
        break;
      }
    }
  });
  return { system, messages: turns };
}

/**
 * True when the conversation is mid tool loop: the last assistant turn
 * called tools and only their results follow. With thinking on, Anthropic
 * wants that turn to start with its signed thinking block, which OpenAI
 * history cannot carry.
 */
export function continuesToolLoop(messages: ChatMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'tool') continue;
    return m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0;
  }
  return false;
}
