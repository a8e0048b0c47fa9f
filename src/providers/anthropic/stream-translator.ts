import type { EventSourceMessage } from 'eventsource-parser';
import type { z } from 'zod';
import { type StreamTranslator, usageChunk } from '../http/stream-translator.js';
import type { ChatCompletionChunk, ChunkDelta, FinishReason } from '../../contract/openai-shapes.js';
import { ProviderError } from '../../contract/provider.js';
import { anthropicStreamError } from './anthropic-error.js';
import type { AnthropicUsage } from './anthropic-response-schema.js';
import {
  contentBlockDeltaSchema,
  contentBlockStartSchema,
  messageDeltaSchema,
  messageStartSchema,
  streamEventSchema,
} from './anthropic-stream-schema.js';
import { convertAnthropicUsage } from './convert-usage.js';
import { mapAnthropicStopReason } from './map-stop-reason.js';
import { plainBlockDelta } from './plain-delta.js';

type Block = { kind: 'tool'; toolIndex: number } | { kind: 'json' } | { kind: 'text' } | { kind: 'thinking' } | { kind: 'other' };

export interface AnthropicStreamOptions {
  upstreamModel: string;
  now: number;
  fallbackId: string;
  jsonToolName?: string;
}

/**
 * Messages API events → OpenAI chunks. Tool blocks get OpenAI indexes from 0
 * in the order they start; the forced JSON tool's input streams as content;
 * thinking streams as `reasoning_content`. `message_delta` ends the answer
 * with a finish chunk and the usage chunk; an `error` event throws.
 */
export class AnthropicStreamTranslator implements StreamTranslator {
  done = false;
  private id: string;
  private model: string;
  private started = false;
  private finished = false;
  private readonly blocks = new Map<number, Block>();
  private toolCount = 0;
  private usage: AnthropicUsage = {};

  constructor(private readonly options: AnthropicStreamOptions) {
    this.id = options.fallbackId;
    this.model = options.upstreamModel;
  }

  push(event: EventSourceMessage): ChatCompletionChunk[] {
    const json = this.parseJson(event.data);
    const plain = plainBlockDelta(json);
    if (plain) return this.blockDelta(plain);
    const base = this.parse(streamEventSchema, json);
    switch (base.type) {
      case 'message_start': {
        const { message } = this.parse(messageStartSchema, json);
        this.id = message.id;
        if (message.model) this.model = message.model;
        if (message.usage) this.addUsage(message.usage);
        return this.start();
      }
      case 'content_block_start':
        return this.blockStart(this.parse(contentBlockStartSchema, json));
      case 'content_block_delta':
        return this.blockDelta(this.parse(contentBlockDeltaSchema, json));
      case 'message_delta': {
        const delta = this.parse(messageDeltaSchema, json);
        if (delta.usage) this.addUsage(delta.usage);
        if (this.finished) return [];
        this.finished = true;
        let finish: FinishReason = mapAnthropicStopReason(delta.delta.stop_reason);
        if (finish === 'tool_calls' && this.toolCount === 0) finish = 'stop';
        const end = this.chunk({}, finish);
        if (delta.delta.stop_sequence) end.choices[0]!.stop_sequence = delta.delta.stop_sequence;
        return [
          ...this.start(),
          end,
          usageChunk(this.id, this.options.now, this.model, convertAnthropicUsage(this.usage)),
        ];
      }
      case 'message_stop':
        this.done = true;
        return [];
      case 'error':
        throw anthropicStreamError(json);
      default:
        // ping, content_block_stop and event types added after this was written.
        return [];
    }
  }

  end(): ChatCompletionChunk[] {
    if (!this.finished) throw new ProviderError('anthropic stream ended before it finished', 'retryable', 200);
    return [];
  }

  private blockStart(event: z.infer<typeof contentBlockStartSchema>): ChatCompletionChunk[] {
    const block = event.content_block;
    const out = this.start();
    if (block.type === 'tool_use' && block.name === this.options.jsonToolName) {
      this.blocks.set(event.index, { kind: 'json' });
    } else if (block.type === 'tool_use') {
      if (!block.id || !block.name) throw new ProviderError('anthropic sent a tool_use block without id or name', 'bad_response', 200);
      const toolIndex = this.toolCount++;
      this.blocks.set(event.index, { kind: 'tool', toolIndex });
      out.push(this.chunk({ tool_calls: [{ index: toolIndex, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] }));
    } else if (block.type === 'text') {
      this.blocks.set(event.index, { kind: 'text' });
      if (block.text) out.push(this.chunk({ content: block.text }));
    } else if (block.type === 'thinking') {
      this.blocks.set(event.index, { kind: 'thinking' });
      if (block.thinking) out.push(this.chunk({ reasoning_content: block.thinking }));
    } else if (block.type === 'redacted_thinking' && typeof block.data === 'string') {
      // Opaque reasoning: nothing to show, but a later turn must send it back.
      this.blocks.set(event.index, { kind: 'other' });
      out.push(this.chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: block.data }] }));
    } else {
      // server_tool_use, web_search_tool_result: nothing to show.
      this.blocks.set(event.index, { kind: 'other' });
    }
    return out;
  }

  private blockDelta(event: z.infer<typeof contentBlockDeltaSchema>): ChatCompletionChunk[] {
    const block = this.blocks.get(event.index) ?? { kind: 'other' };
    const delta = event.delta;
    if (delta.type === 'text_delta' && delta.text) return [this.chunk({ content: delta.text })];
    if (delta.type === 'thinking_delta' && delta.thinking) return [this.chunk({ reasoning_content: delta.thinking })];
    // The signature closes its thinking block: what streamed since the block began is what it signs.
    if (delta.type === 'signature_delta' && delta.signature) return [this.chunk({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: delta.signature }] })];
    if (delta.type === 'input_json_delta' && delta.partial_json) {
      if (block.kind === 'json') return [this.chunk({ content: delta.partial_json })];
      if (block.kind === 'tool') {
        return [this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: delta.partial_json } }] })];
      }
    }
    // citations_delta, server tool input: not part of the OpenAI shape.
    return [];
  }

  private start(): ChatCompletionChunk[] {
    if (this.started) return [];
    this.started = true;
    return [this.chunk({ role: 'assistant', content: '' })];
  }

  private addUsage(usage: AnthropicUsage): void {
    for (const [key, value] of Object.entries(usage)) {
      if (typeof value === 'number') (this.usage as Record<string, unknown>)[key] = value;
    }
    if (usage.cache_creation) this.usage.cache_creation = usage.cache_creation;
  }

  private chunk(delta: ChunkDelta | undefined, finish: FinishReason | null = null): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.options.now,
      model: this.model,
      choices: delta ? [{ index: 0, delta, finish_reason: finish }] : [],
    };
  }

  private parseJson(data: string): unknown {
    try {
      return JSON.parse(data);
    } catch {
      throw new ProviderError('anthropic sent a malformed stream frame', 'bad_response', 200);
    }
  }

  private parse<T extends z.ZodType>(schema: T, json: unknown): z.infer<T> {
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ProviderError('anthropic sent an unexpected stream event', 'bad_response', 200);
    return parsed.data;
  }
}
