import type { ChatCompletion, FinishReason, Usage } from '../../../contract/openai-shapes.js';

// Completions as Google's GenerateContentResponse.

export type GeminiResponsePart = Record<string, unknown>;

export interface GenerateContentResponse {
  candidates: Array<{ content: { role: 'model'; parts: GeminiResponsePart[] }; finishReason?: string; index: number }>;
  usageMetadata?: Record<string, number>;
  modelVersion: string;
  responseId: string;
}

const FINISH: Record<FinishReason, string> = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  tool_calls: 'STOP',
  function_call: 'STOP',
  content_filter: 'SAFETY',
};

export const geminiFinishReason = (reason: FinishReason | null | undefined): string => FINISH[reason ?? 'stop'] ?? 'OTHER';

/** Every input token in promptTokenCount (cached ones too, as Google counts them); thoughts apart from the answer. */
export function usageMetadata(usage: Usage): Record<string, number> {
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const thoughts = usage.completion_tokens_details?.reasoning_tokens ?? 0;
  return {
    promptTokenCount: usage.prompt_tokens,
    candidatesTokenCount: Math.max(0, usage.completion_tokens - thoughts),
    totalTokenCount: usage.prompt_tokens + usage.completion_tokens,
    ...(cached > 0 ? { cachedContentTokenCount: cached } : {}),
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
  };
}

/** Tool-call arguments as the object Gemini's functionCall carries; a model's malformed JSON stays visible as a string. */
export function callArgs(args: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(args || '{}');
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Fall through.
  }
  return { arguments: args };
}

export interface RenderOptions {
  /** The model the client named in the path. */
  model: string;
  /** thinkingConfig.includeThoughts: Google returns thought parts only when asked. */
  includeThoughts: boolean;
}

export function renderGenerateContent(completion: ChatCompletion, options: RenderOptions): GenerateContentResponse {
  const choice = completion.choices[0];
  const parts: GeminiResponsePart[] = [];
  if (choice) {
    const { message } = choice;
    if (options.includeThoughts && message.reasoning_content) parts.push({ text: message.reasoning_content, thought: true });
    if (message.content) parts.push({ text: message.content });
    for (const call of message.tool_calls ?? []) parts.push({ functionCall: { id: call.id, name: call.function.name, args: callArgs(call.function.arguments) } });
  }
  if (parts.length === 0) parts.push({ text: '' });
  return {
    candidates: [{ content: { role: 'model', parts }, finishReason: geminiFinishReason(choice?.finish_reason), index: 0 }],
    usageMetadata: usageMetadata(completion.usage),
    modelVersion: options.model,
    responseId: completion.id,
  };
}
