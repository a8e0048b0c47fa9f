import type { ChatCompletionChunk, FinishReason, Usage } from '../../../contract/openai-shapes.js';
import type { ResponsesRequest } from '../../../contract/responses-request.js';
import type { GatewayError } from '../../errors.js';
import {
  type FunctionCallOutput,
  incompleteReason,
  type MessageOutput,
  newItemId,
  type OutputItem,
  type OutputText,
  type ReasoningOutput,
  type ResponseError,
  type ResponseObject,
  type ResponseStatus,
  responseObject,
  responseUsage,
} from './render-response.js';

// A chat stream's chunks as the Responses API's typed events: the response
// created and in progress, each output item added, its content streamed and
// done, then the response completed, incomplete or failed. Every event has
// the next `sequence_number`, from 0.

export interface ResponseStreamEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

/** One SSE frame: the `event:` line names the type, as OpenAI sends them. */
export const sseFrame = (event: ResponseStreamEvent): string => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

const responseError = (error: GatewayError): ResponseError => ({
  code: error.status === 429 ? 'rate_limit_exceeded' : error.status === 400 ? 'invalid_prompt' : 'server_error',
  message: error.message,
});

type Open =
  | { kind: 'text'; index: number; item: MessageOutput; part: OutputText }
  | { kind: 'reasoning'; index: number; item: ReasoningOutput; part: { type: 'reasoning_text'; text: string } }
  | { kind: 'call'; index: number; item: FunctionCallOutput; toolIndex: number };

/** Turns chunk batches into events, and keeps the response they describe. */
export class ResponseEventRenderer {
  #sequence = 0;
  #output: OutputItem[] = [];
  #open: Open | undefined;
  #finish: FinishReason | null = null;
  #usage: Usage | undefined;

  constructor(
    private readonly req: ResponsesRequest,
    private readonly id: string,
    private readonly createdAt: number,
  ) {}

  #event(type: string, fields: Record<string, unknown>): ResponseStreamEvent {
    return { type, sequence_number: this.#sequence++, ...fields };
  }

  /** The response as it stands, in `status`. */
  snapshot(status: ResponseStatus, extra: { error?: ResponseError; usage?: Usage | undefined } = {}): ResponseObject {
    const usage = extra.usage ?? this.#usage;
    return responseObject(this.req, {
      id: this.id,
      createdAt: this.createdAt,
      status,
      // A copy: the open item keeps growing after this event is handed on.
      output: structuredClone(this.#output),
      usage: usage ? responseUsage(usage) : undefined,
      error: extra.error ?? null,
      incomplete: status === 'incomplete' ? (incompleteReason(this.#finish) ?? 'max_output_tokens') : undefined,
    });
  }

  /** The first two events, before any output. */
  start(): ResponseStreamEvent[] {
    return [this.#event('response.created', { response: this.snapshot('in_progress') }), this.#event('response.in_progress', { response: this.snapshot('in_progress') })];
  }

  /** Usage the upstream reported, if it did. */
  get usage(): Usage | undefined {
    return this.#usage;
  }

  /** The status the finished answer ends in. */
  get finalStatus(): 'completed' | 'incomplete' {
    return incompleteReason(this.#finish) ? 'incomplete' : 'completed';
  }

  /** The events of one batch of chunks. */
  batch(chunks: readonly ChatCompletionChunk[]): ResponseStreamEvent[] {
    const out: ResponseStreamEvent[] = [];
    for (const chunk of chunks) {
      if (chunk.usage) this.#usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      const d = choice.delta;
      if (d.reasoning_content) this.#reasoning(d.reasoning_content, out);
      if (d.content) this.#text(d.content, out);
      if (d.tool_calls) for (const call of d.tool_calls) this.#toolCall(call, out);
      if (choice.finish_reason) this.#finish = choice.finish_reason;
    }
    return out;
  }

  #add(item: OutputItem, out: ResponseStreamEvent[]): number {
    const index = this.#output.length;
    this.#output.push(item);
    // Not { ...item, content }: an item without content would gain a key after a leading spread (see #close).
    out.push(this.#event('response.output_item.added', { output_index: index, item: 'content' in item ? { ...item, content: [] } : { ...item } }));
    return index;
  }

  #reasoning(delta: string, out: ResponseStreamEvent[]): void {
    if (this.#open?.kind !== 'reasoning') {
      this.#close('completed', out);
      const part = { type: 'reasoning_text' as const, text: '' };
      const item: ReasoningOutput = { type: 'reasoning', id: newItemId('rs'), summary: [], content: [part], status: 'in_progress' };
      const index = this.#add(item, out);
      out.push(this.#event('response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part: { ...part } }));
      this.#open = { kind: 'reasoning', index, item, part };
    }
    const open = this.#open;
    open.part.text += delta;
    out.push(this.#event('response.reasoning_text.delta', { item_id: open.item.id, output_index: open.index, content_index: 0, delta }));
  }

  #text(delta: string, out: ResponseStreamEvent[]): void {
    if (this.#open?.kind !== 'text') {
      this.#close('completed', out);
      const part: OutputText = { type: 'output_text', text: '', annotations: [], logprobs: [] };
      const item: MessageOutput = { type: 'message', id: newItemId('msg'), status: 'in_progress', role: 'assistant', content: [part] };
      const index = this.#add(item, out);
      out.push(this.#event('response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part: { ...part } }));
      this.#open = { kind: 'text', index, item, part };
    }
    const open = this.#open;
    open.part.text += delta;
    out.push(this.#event('response.output_text.delta', { item_id: open.item.id, output_index: open.index, content_index: 0, delta, logprobs: [] }));
  }

  #toolCall(call: NonNullable<ChatCompletionChunk['choices'][number]['delta']['tool_calls']>[number], out: ResponseStreamEvent[]): void {
    if (this.#open?.kind !== 'call' || this.#open.toolIndex !== call.index) {
      this.#close('completed', out);
      const item: FunctionCallOutput = { type: 'function_call', id: newItemId('fc'), call_id: call.id ?? newItemId('fc'), name: call.function?.name ?? '', arguments: '', status: 'in_progress' };
      const index = this.#output.length;
      this.#output.push(item);
      out.push(this.#event('response.output_item.added', { output_index: index, item: { ...item } }));
      this.#open = { kind: 'call', index, item, toolIndex: call.index };
    }
    const open = this.#open;
    const delta = call.function?.arguments;
    if (delta) {
      open.item.arguments += delta;
      out.push(this.#event('response.function_call_arguments.delta', { item_id: open.item.id, output_index: open.index, delta }));
    }
  }

  /** Ends the open item, if any, with its done events. */
  #close(status: 'completed' | 'incomplete', out: ResponseStreamEvent[]): void {
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    open.item.status = status;
    // Not { ...at, content_index }: keys a literal adds after a leading spread get a hidden class of their own (docs/design.md).
    const item_id = open.item.id;
    const output_index = open.index;
    if (open.kind === 'text') {
      out.push(this.#event('response.output_text.done', { item_id, output_index, content_index: 0, text: open.part.text, logprobs: [] }));
      out.push(this.#event('response.content_part.done', { item_id, output_index, content_index: 0, part: { ...open.part } }));
    } else if (open.kind === 'reasoning') {
      out.push(this.#event('response.reasoning_text.done', { item_id, output_index, content_index: 0, text: open.part.text }));
      out.push(this.#event('response.content_part.done', { item_id, output_index, content_index: 0, part: { ...open.part } }));
    } else {
      out.push(this.#event('response.function_call_arguments.done', { item_id, output_index, name: open.item.name, arguments: open.item.arguments }));
    }
    out.push(this.#event('response.output_item.done', { output_index: open.index, item: structuredClone(open.item) }));
  }

  /** The last events of an answer that ran to its end; `usage` when the upstream reported none. */
  finish(usage?: Usage): { events: ResponseStreamEvent[]; response: ResponseObject } {
    const status = this.finalStatus;
    const events: ResponseStreamEvent[] = [];
    // A message cut by the cap is incomplete; a call the model finished is not.
    this.#close(status === 'incomplete' && this.#open?.kind !== 'call' ? 'incomplete' : 'completed', events);
    const response = this.snapshot(status, { usage });
    events.push(this.#event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response }));
    return { events, response };
  }

  /** The events of an answer that failed after it began: the error, then the failed response. */
  fail(error: GatewayError): { events: ResponseStreamEvent[]; response: ResponseObject } {
    const events: ResponseStreamEvent[] = [];
    this.#close('incomplete', events);
    events.push(this.#event('error', { code: error.type, message: error.message, param: error.param ?? null }));
    const response = this.snapshot('failed', { error: responseError(error) });
    events.push(this.#event('response.failed', { response }));
    return { events, response };
  }

  /** The response of an answer its client (or a cancel) stopped: what was produced, in `status`. */
  stopped(status: 'cancelled' | 'failed'): ResponseObject {
    if (this.#open) this.#open.item.status = 'incomplete';
    this.#open = undefined;
    return this.snapshot(status);
  }
}
