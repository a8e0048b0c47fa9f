import type { ChatMessage, ContentPart, ToolCall } from '../../contract/chat-request.js';
import { isHttpUrl, parseBase64DataUrl } from '../http/parse-data-url.js';
import { ProviderError } from '../../contract/provider.js';
import { guessMimeType } from './guess-mime-type.js';

export type GeminiPart = Record<string, unknown>;
export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}
export interface GeminiPrompt {
  systemInstruction?: { parts: GeminiPart[] };
  contents: GeminiContent[];
}
export interface GeminiContentsOptions {
  /**
   * Gemini 3 rejects a replayed functionCall without its thought signature,
   * which OpenAI history cannot carry; Google documents this placeholder
   * for history that came from elsewhere.
   */
  placeholderThoughtSignature?: string;
}

const invalid = (message: string) => new ProviderError(message, 'client', undefined, undefined, 400);

const textParts = (content: string | Array<{ text?: string; refusal?: string }> | null | undefined): GeminiPart[] => {
  if (content == null) return [];
  const texts = typeof content === 'string' ? [content] : content.map((p) => p.text ?? p.refusal ?? '');
  return texts.filter((text) => text.length > 0).map((text) => ({ text }));
};

function mediaPart(url: string, where: string, fallbackMime: string): GeminiPart {
  const data = parseBase64DataUrl(url);
  if (data) return { inlineData: { mimeType: data.mediaType, data: data.data } };
  if (isHttpUrl(url)) return { fileData: { mimeType: guessMimeType(url, fallbackMime), fileUri: url } };
  throw invalid(`${where}: must be an http(s) or base64 data: URL`);
}

function userPart(part: ContentPart, where: string): GeminiPart | undefined {
  switch (part.type) {
    case 'text':
      return part.text.length > 0 ? { text: part.text } : undefined;
    case 'image_url':
      return mediaPart(part.image_url.url, `${where}.image_url.url`, 'image/jpeg');
    case 'input_audio':
      return { inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data } };
    case 'file': {
      const fileData = (part.file as { file_data?: unknown }).file_data;
      if (typeof fileData !== 'string') throw invalid(`${where}: only files sent as file_data are supported by gemini models`);
      return mediaPart(fileData, `${where}.file.file_data`, 'application/pdf');
    }
    case 'refusal':
      return { text: part.refusal };
  }
}

function parseArguments(call: ToolCall, where: string): Record<string, unknown> {
  let args: unknown;
  try {
    args = call.function.arguments.trim() === '' ? {} : JSON.parse(call.function.arguments);
  } catch {
    throw invalid(`${where}.function.arguments is not valid JSON`);
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw invalid(`${where}.function.arguments must be a JSON object`);
  }
  return args as Record<string, unknown>;
}

/** A functionResponse needs an object: a JSON object result is used as is, anything else is wrapped. */
function toolResponse(content: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(content);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Plain text result.
  }
  return { content };
}

/**
 * OpenAI messages as Gemini `contents`: system and developer text becomes
 * `systemInstruction`, the assistant is `model`, tool results become
 * `functionResponse` parts named after the call they answer (found by
 * `tool_call_id` in earlier assistant turns), and consecutive turns of one
 * role merge.
 */
export function convertToGeminiPrompt(messages: ChatMessage[], options: GeminiContentsOptions = {}): GeminiPrompt {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const callNames = new Map<string, string>();
  const push = (role: GeminiContent['role'], parts: GeminiPart[]) => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  messages.forEach((message, i) => {
    const where = `messages[${i}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(message.content));
        break;
      case 'user':
        push(
          'user',
          typeof message.content === 'string'
            ? textParts(message.content)
            : message.content.flatMap<GeminiPart>((part, j) => userPart(part, `${where}.content[${j}]`) ?? []),
        );
        break;
      case 'assistant': {
        const calls = (message.tool_calls ?? []).map((call, j): GeminiPart => {
          callNames.set(call.id, call.function.name);
          const part: GeminiPart = { functionCall: { name: call.function.name, args: parseArguments(call, `${where}.tool_calls[${j}]`) } };
          // Only the first call of a parallel set carries a signature.
          if (j === 0 && options.placeholderThoughtSignature) part.thoughtSignature = options.placeholderThoughtSignature;
          return part;
        });
        push('model', [...textParts(message.content), ...calls]);
        break;
      }
      case 'tool': {
        const name = callNames.get(message.tool_call_id);
        if (!name) throw invalid(`${where}.tool_call_id "${message.tool_call_id}" matches no earlier assistant tool call`);
        const content = typeof message.content === 'string' ? message.content : message.content.map((p) => p.text).join('');
        push('user', [{ functionResponse: { name, response: toolResponse(content) } }]);
        break;
      }
    }
  });

  return { ...(system.length > 0 ? { systemInstruction: { parts: system } } : {}), contents };
}
