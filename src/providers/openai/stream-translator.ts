import type { EventSourceMessage } from 'eventsource-parser';
import { type StreamTranslator, usageChunk } from '../http/stream-translator.js';
import type { ChatCompletionChunk, ChunkDelta, ToolCallDelta, Usage } from '../../contract/openai-shapes.js';
import { safeUpstreamMessage } from '../http/safe-upstream-message.js';
import { ProviderError } from '../../contract/provider.js';
import { convertOpenAIUsage } from './convert-usage.js';
import { mapOpenAIFinishReason } from './map-finish-reason.js';
import { openaiErrorDetails } from './openai-error.js';
import { openaiChunkSchema, type OpenAIChunk } from './openai-response-schema.js';
import { plainChunk } from './plain-chunk.js';

type UpstreamDelta = NonNullable<NonNullable<OpenAIChunk['choices']>[number]['delta']>;

function convertDelta(delta: UpstreamDelta | null | undefined): ChunkDelta {
  const out: ChunkDelta = {};
  if (!delta) return out;
  if (delta.role === 'assistant') out.role = 'assistant';
  if (delta.content != null) out.content = delta.content;
  const reasoning = delta.reasoning_content ?? delta.reasoning;
  if (reasoning != null) out.reasoning_content = reasoning;
  if (delta.refusal != null) out.refusal = delta.refusal;
  if (delta.tool_calls && delta.tool_calls.length > 0) {
    out.tool_calls = delta.tool_calls.map((call, position) => {
      const piece: ToolCallDelta = { index: call.index ?? position };
      if (call.id) piece.id = call.id;
      if (call.type === 'function' || call.id) piece.type = 'function';
      if (call.function) {
        piece.function = {};
        if (call.function.name != null) piece.function.name = call.function.name;
        if (call.function.arguments != null) piece.function.arguments = call.function.arguments;
      }
      return piece;
    });
  }
  return out;
}

/**
 * OpenAI-wire chunks normalised: one id for the whole stream, a role chunk
 * first even if the upstream skipped it, `reasoning` renamed to
 * `reasoning_content`, and usage moved off whichever chunk carried it onto
 * one final `choices: []` chunk, whatever the compatible server did.
 */
export class OpenAIStreamTranslator implements StreamTranslator {
  done = false;
  private id: string | undefined;
  private created: number | undefined;
  private model: string;
  private started = false;
  private finished = false;
  private usage: Usage | undefined;

  constructor(
    private readonly label: string,
    upstreamModel: string,
    private readonly now: number,
    private readonly fallbackId: string,
  ) {
    this.model = upstreamModel;
  }

  push(event: EventSourceMessage): ChatCompletionChunk[] {
    const data = event.data.trim();
    if (data === '[DONE]') {
      this.done = true;
      return [];
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw new ProviderError(`${this.label} sent a malformed stream frame`, 'bad_response', 200);
    }
    const chunk = plainChunk(json) ?? this.validated(json);
    if (chunk.error !== undefined && chunk.error !== null) {
      const { message } = openaiErrorDetails({ error: chunk.error });
      throw new ProviderError(`${this.label} failed mid-stream${message ? `: ${safeUpstreamMessage(message, '')}` : ''}`, 'retryable', 200);
    }

    this.id ??= chunk.id ?? this.fallbackId;
    this.created ??= chunk.created ?? this.now;
    if (chunk.model) this.model = chunk.model;
    if (chunk.usage) this.usage = convertOpenAIUsage(chunk.usage);

    const choices = chunk.choices ?? [];
    if (choices.length === 0) return [];

    const out: ChatCompletionChunk[] = [];
    const converted = choices.map((choice, position) => ({
      index: choice.index ?? position,
      delta: convertDelta(choice.delta),
      finish_reason: choice.finish_reason ? mapOpenAIFinishReason(choice.finish_reason) : null,
    }));
    if (!this.started) {
      this.started = true;
      if (converted[0]?.delta.role !== 'assistant') {
        out.push(this.chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
      }
    }
    if (converted.some((c) => c.finish_reason !== null)) this.finished = true;
    out.push(this.chunk(converted));
    if (chunk.system_fingerprint) out[out.length - 1]!.system_fingerprint = chunk.system_fingerprint;
    return out;
  }

  end(): ChatCompletionChunk[] {
    if (!this.finished) throw new ProviderError(`${this.label} stream ended before it finished`, 'retryable', 200);
    return this.usage ? [usageChunk(this.id ?? this.fallbackId, this.created ?? this.now, this.model, this.usage)] : [];
  }

  private validated(json: unknown): OpenAIChunk {
    const parsed = openaiChunkSchema.safeParse(json);
    if (!parsed.success) throw new ProviderError(`${this.label} sent an unexpected stream frame`, 'bad_response', 200);
    return parsed.data;
  }

  private chunk(choices: ChatCompletionChunk['choices']): ChatCompletionChunk {
    return {
      id: this.id ?? this.fallbackId,
      object: 'chat.completion.chunk',
      created: this.created ?? this.now,
      model: this.model,
      choices,
    };
  }
}
