import type { ToolCall } from '../../contract/chat-request.js';
import { ProviderError } from '../../contract/provider.js';
import type { AssistantMessage, ChatCompletion } from '../../contract/openai-shapes.js';
import { convertGeminiUsage } from './convert-usage.js';
import type { GeminiResponse, GeminiResponsePart } from './gemini-response-schema.js';
import { mapGeminiFinishReason } from './map-finish-reason.js';

export interface GeminiResponseOptions {
  upstreamModel: string;
  now: number;
  fallbackId: string;
  /** Gemini gives function calls no id; the gateway makes one. */
  newToolCallId: () => string;
}

export function toolCallFromPart(part: GeminiResponsePart, newToolCallId: () => string): ToolCall | undefined {
  const call = part.functionCall;
  if (!call) return undefined;
  return {
    id: call.id ?? newToolCallId(),
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
  };
}

export function convertGeminiResponse(res: GeminiResponse, options: GeminiResponseOptions): ChatCompletion {
  const candidates = res.candidates ?? [];
  const blocked = candidates.length === 0 && res.promptFeedback?.blockReason;
  if (candidates.length === 0 && !blocked) {
    throw new ProviderError('gemini returned no candidates', 'bad_response', 200);
  }

  const choices = blocked
    ? [{ index: 0, message: { role: 'assistant' as const, content: null, refusal: null }, logprobs: null, finish_reason: 'content_filter' as const }]
    : candidates.map((candidate, position) => {
        const texts: string[] = [];
        const thoughts: string[] = [];
        const toolCalls: ToolCall[] = [];
        for (const part of candidate.content?.parts ?? []) {
          const call = toolCallFromPart(part, options.newToolCallId);
          if (call) toolCalls.push(call);
          else if (part.text != null && part.thought) thoughts.push(part.text);
          else if (part.text != null) texts.push(part.text);
        }
        const message: AssistantMessage = {
          role: 'assistant',
          content: texts.length > 0 ? texts.join('') : null,
          refusal: null,
        };
        if (toolCalls.length > 0) message.tool_calls = toolCalls;
        if (thoughts.length > 0) message.reasoning_content = thoughts.join('');
        return {
          index: candidate.index ?? position,
          message,
          logprobs: null,
          finish_reason: mapGeminiFinishReason(candidate.finishReason, toolCalls.length > 0),
        };
      });

  return {
    id: res.responseId ?? options.fallbackId,
    object: 'chat.completion',
    created: options.now,
    model: res.modelVersion ?? options.upstreamModel,
    choices,
    usage: convertGeminiUsage(res.usageMetadata ?? {}),
  };
}
