import type { ChatCompletionChunk, ChunkDelta, FinishReason, Usage } from '../../../contract/openai-shapes.js';
import { countTextTokens } from '../../../tokens/count-tokens.js';
import { toGatewayError } from '../../routing/to-gateway-error.js';
import { messagesError } from './render-error.js';
import { messageId } from './render-message.js';
import { messagesUsage } from './render-usage.js';
import { stopReason } from './stop-reason.js';

const event = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

type Open = { kind: 'thinking' } | { kind: 'text' } | { kind: 'tool'; toolIndex: number };

/**
 * OpenAI chunk batches as Anthropic's stream grammar: message_start, a ping,
 * then per content block content_block_start, its deltas and
 * content_block_stop (indices from 0, one block open at a time), then
 * message_delta with the stop reason and usage, and message_stop. A failure
 * after the start is an `error` event.
 */
export class MessagesEventWriter {
  #started = false;
  #open: Open | undefined;
  #index = -1;
  #finish: FinishReason | null = null;
  #stopSequence: string | undefined;
  #usage: Usage | undefined;
  /** What streamed, for an output count when the upstream reports none. */
  #produced: string[] = [];

  constructor(
    private readonly model: string,
    /** The admission's prompt count, shown in message_start until the upstream's own arrives in message_delta. */
    private readonly promptTokens: number,
  ) {}

  /** The events for one batch, as one string (what arrived together leaves together). */
  batch(chunks: ChatCompletionChunk[]): string {
    let out = '';
    for (const chunk of chunks) {
      if (!this.#started) out += this.#start(chunk.id);
      if (chunk.usage) this.#usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      out += this.#delta(choice.delta);
      if (choice.finish_reason) this.#finish = choice.finish_reason;
      if (choice.stop_sequence) this.#stopSequence = choice.stop_sequence;
    }
    return out;
  }

  /** The closing events once the stream ended well. */
  end(): string {
    let out = this.#started ? '' : this.#start('');
    out += this.#close();
    const usage = this.#usage ? messagesUsage(this.#usage) : { ...messagesUsage(undefined), input_tokens: this.promptTokens, output_tokens: countTextTokens(this.#produced.join('')) };
    out += event('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason(this.#finish, this.#stopSequence), stop_sequence: this.#stopSequence ?? null },
      usage: {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
      },
    });
    return out + event('message_stop', { type: 'message_stop' });
  }

  /** The error event for a stream that failed after it began. */
  error(e: unknown): string {
    return event('error', messagesError(toGatewayError(e)).body);
  }

  #start(upstreamId: string): string {
    this.#started = true;
    const message = {
      id: messageId(upstreamId),
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: this.promptTokens, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    return event('message_start', { type: 'message_start', message }) + event('ping', { type: 'ping' });
  }

  #openBlock(open: Open, block: Record<string, unknown>): string {
    const out = this.#close();
    this.#open = open;
    this.#index++;
    return out + event('content_block_start', { type: 'content_block_start', index: this.#index, content_block: block });
  }

  #close(): string {
    if (!this.#open) return '';
    this.#open = undefined;
    return event('content_block_stop', { type: 'content_block_stop', index: this.#index });
  }

  #blockDelta(delta: Record<string, unknown>): string {
    return event('content_block_delta', { type: 'content_block_delta', index: this.#index, delta });
  }

  #delta(d: ChunkDelta): string {
    let out = '';
    if (d.reasoning_content) {
      if (this.#open?.kind !== 'thinking') out += this.#openBlock({ kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
      out += this.#blockDelta({ type: 'thinking_delta', thinking: d.reasoning_content });
      this.#produced.push(d.reasoning_content);
    }
    for (const block of d.thinking_blocks ?? []) {
      if (block.type === 'redacted_thinking') {
        out += this.#openBlock({ kind: 'thinking' }, { type: 'redacted_thinking', data: block.data }) + this.#close();
        continue;
      }
      if (this.#open?.kind !== 'thinking') out += this.#openBlock({ kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
      if (block.thinking) out += this.#blockDelta({ type: 'thinking_delta', thinking: block.thinking });
      // The signature is the block's last word: what follows is a new block.
      out += this.#blockDelta({ type: 'signature_delta', signature: block.signature }) + this.#close();
    }
    if (d.content) {
      if (this.#open?.kind !== 'text') out += this.#openBlock({ kind: 'text' }, { type: 'text', text: '' });
      out += this.#blockDelta({ type: 'text_delta', text: d.content });
      this.#produced.push(d.content);
    }
    for (const call of d.tool_calls ?? []) {
      const open = this.#open;
      const continues = open?.kind === 'tool' && open.toolIndex === call.index;
      if (call.id || (!continues && call.function?.name)) {
        out += this.#openBlock({ kind: 'tool', toolIndex: call.index }, { type: 'tool_use', id: call.id ?? '', name: call.function?.name ?? '', input: {} });
      } else if (!continues) {
        // Arguments of a call after another began cannot be placed: upstreams stream calls one after another.
        continue;
      }
      const args = call.function?.arguments;
      if (args) {
        out += this.#blockDelta({ type: 'input_json_delta', partial_json: args });
        this.#produced.push(args);
      }
    }
    return out;
  }
}
