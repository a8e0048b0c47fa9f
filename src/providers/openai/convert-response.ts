import type { ChatRequest } from '../../contract/chat-request.js';
import { countPromptTokens, countTextTokens } from '../../tokens/count-tokens.js';
import { makeUsage, type AssistantMessage, type ChatCompletion } from '../../contract/openai-shapes.js';
import { convertOpenAIUsage } from './convert-usage.js';
import { mapOpenAIFinishReason } from './map-finish-reason.js';
import type { OpenAICompletion } from './openai-response-schema.js';

export interface ConvertOptions {
  upstreamModel: string;
  /** Unix seconds, for upstreams that leave `created` out. */
  now: number;
  /** A fallback id, for upstreams that leave `id` out. */
  fallbackId: string;
}

/**
 * An OpenAI-wire completion in the gateway's exact shape. Usage comes from
 * the upstream; a compatible server that reports none gets a tokenizer
 * estimate rather than a free call.
 */
export function convertOpenAIResponse(res: OpenAICompletion, req: ChatRequest, options: ConvertOptions): ChatCompletion {
  const choices = res.choices.map((choice, position) => {
    const m = choice.message;
    const message: AssistantMessage = { role: 'assistant', content: m.content ?? null, refusal: m.refusal ?? null };
    if (m.tool_calls && m.tool_calls.length > 0) {
      message.tool_calls = m.tool_calls.map((call) => ({
        id: call.id,
        type: 'function' as const,
        function: { name: call.function.name, arguments: call.function.arguments ?? '' },
      }));
    }
    const reasoning = m.reasoning_content ?? m.reasoning;
    if (reasoning) message.reasoning_content = reasoning;
    // Web-search citations: not in our type, but clients of search models read them.
    if (m.annotations) Object.assign(message, { annotations: m.annotations });
    return {
      index: choice.index ?? position,
      message,
      logprobs: null,
      finish_reason: mapOpenAIFinishReason(choice.finish_reason),
    };
  });

  const usage = res.usage
    ? convertOpenAIUsage(res.usage)
    : makeUsage(
        countPromptTokens(req.messages, req.tools),
        choices.reduce(
          (sum, c) =>
            sum +
            countTextTokens(c.message.content ?? '') +
            countTextTokens(c.message.reasoning_content ?? '') +
            (c.message.tool_calls ?? []).reduce((s, t) => s + countTextTokens(t.function.arguments), 0),
          0,
        ),
      );

  const completion: ChatCompletion = {
    id: res.id ?? options.fallbackId,
    object: 'chat.completion',
    created: res.created ?? options.now,
    model: res.model ?? options.upstreamModel,
    choices,
    usage,
  };
  if (res.system_fingerprint) completion.system_fingerprint = res.system_fingerprint;
  return completion;
}
