import type { EventSourceMessage } from 'eventsource-parser';
import { type StreamTranslator, usageChunk } from '../http/stream-translator.js';
import { upstreamError } from '../http/upstream-error.js';
import type { ChatCompletionChunk, ChunkDelta, FinishReason, ToolCallDelta } from '../../contract/openai-shapes.js';
import { ProviderError } from '../../contract/provider.js';
import { toolCallFromPart } from './convert-response.js';
import { convertGeminiUsage } from './convert-usage.js';
import { geminiErrorDetails } from './gemini-error.js';
import { type GeminiResponse, geminiResponseSchema, type GeminiUsage } from './gemini-response-schema.js';
import { mapGeminiFinishReason } from './map-finish-reason.js';
import { plainResponse } from './plain-response.js';

export interface GeminiStreamOptions {
  upstreamModel: string;
  now: number;
  fallbackId: string;
  newToolCallId: () => string;
}

interface CandidateState {
  toolCount: number;
  finished: boolean;
}

function validated(json: unknown): GeminiResponse {
  const parsed = geminiResponseSchema.safeParse(json);
  if (!parsed.success) throw new ProviderError('gemini sent an unexpected stream frame', 'bad_response', 200);
  return parsed.data;
}

/**
 * `streamGenerateContent?alt=sse` events → OpenAI chunks. Each event is a
 * whole GenerateContentResponse holding the next parts; function calls
 * arrive whole, so each becomes one tool-call delta with its full
 * arguments. There is no terminal event: the stream ends at EOF, when the
 * usage chunk is owed, and a stream with no finishReason is a cut one.
 */
export class GeminiStreamTranslator implements StreamTranslator {
  readonly done = false;
  private id: string;
  private model: string;
  private readonly candidates = new Map<number, CandidateState>();
  private usage: GeminiUsage | undefined;

  constructor(private readonly options: GeminiStreamOptions) {
    this.id = options.fallbackId;
    this.model = options.upstreamModel;
  }

  push(event: EventSourceMessage): ChatCompletionChunk[] {
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      throw new ProviderError('gemini sent a malformed stream frame', 'bad_response', 200);
    }
    const res = plainResponse(json) ?? validated(json);
    if (res.error !== undefined) {
      const details = geminiErrorDetails(json);
      const code = (res.error as { code?: unknown }).code;
      const status = typeof code === 'number' ? code : 500;
      throw upstreamError({ provider: 'gemini (mid-stream)', status, headers: {}, details, apiKey: '' });
    }
    if (this.candidates.size === 0 && res.responseId) this.id = res.responseId;
    if (res.modelVersion) this.model = res.modelVersion;
    if (res.usageMetadata) this.usage = res.usageMetadata;

    const out: ChatCompletionChunk[] = [];
    const candidates = res.candidates ?? [];
    if (candidates.length === 0 && res.promptFeedback?.blockReason) {
      out.push(...this.start(0));
      out.push(this.chunk(0, {}, this.finish(0, 'content_filter')));
      return out;
    }

    candidates.forEach((candidate, position) => {
      const index = candidate.index ?? position;
      out.push(...this.start(index));
      const state = this.candidates.get(index)!;
      for (const part of candidate.content?.parts ?? []) {
        const call = toolCallFromPart(part, this.options.newToolCallId);
        if (call) {
          const delta: ToolCallDelta = { index: state.toolCount++, id: call.id, type: 'function', function: call.function };
          out.push(this.chunk(index, { tool_calls: [delta] }));
        } else if (part.text) {
          out.push(this.chunk(index, part.thought ? { reasoning_content: part.text } : { content: part.text }));
        }
      }
      if (candidate.finishReason && !state.finished) {
        out.push(this.chunk(index, {}, this.finish(index, mapGeminiFinishReason(candidate.finishReason, state.toolCount > 0))));
      }
    });
    return out;
  }

  end(): ChatCompletionChunk[] {
    const states = [...this.candidates.values()];
    if (states.length === 0 || states.some((s) => !s.finished)) {
      throw new ProviderError('gemini stream ended before it finished', 'retryable', 200);
    }
    if (!this.usage) return [];
    return [usageChunk(this.id, this.options.now, this.model, convertGeminiUsage(this.usage))];
  }

  private start(index: number): ChatCompletionChunk[] {
    if (this.candidates.has(index)) return [];
    this.candidates.set(index, { toolCount: 0, finished: false });
    return [this.chunk(index, { role: 'assistant', content: '' })];
  }

  private finish(index: number, reason: FinishReason): FinishReason {
    const state = this.candidates.get(index);
    if (state) state.finished = true;
    return reason;
  }

  private chunk(index: number, delta: ChunkDelta | undefined, finish: FinishReason | null = null): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.options.now,
      model: this.model,
      choices: delta ? [{ index, delta, finish_reason: finish }] : [],
    };
  }
}
