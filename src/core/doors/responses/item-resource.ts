import { newId } from '../../../contract/ids.js';

/** One item of a Responses conversation as JSON: an input item, or an output item fed back as input. */
export type LooseItem = { type?: unknown; id?: unknown; [field: string]: unknown };

/** An item as `input_items` lists it: always with its id and type. */
export type StoredItem = { type: string; id: string; [field: string]: unknown };

const ID_PREFIX: Record<string, string> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  reasoning: 'rs',
};

const textPart = (role: unknown, text: string) => (role === 'assistant' ? { type: 'output_text', text, annotations: [], logprobs: [] } : { type: 'input_text', text });

/**
 * The stored form of one input item, the shape the spec's ItemResource
 * gives it when listed: an id of its own, `type` spelt out, a message's
 * string content as a text part, and a status where the resource requires
 * one. A client's item in the easy form (`{role, content: "hi"}`) comes
 * back as OpenAI lists it.
 */
export function toStoredItem(item: LooseItem): StoredItem {
  const type = typeof item.type === 'string' ? item.type : 'message';
  const id = typeof item.id === 'string' && item.id !== '' ? item.id : newId(ID_PREFIX[type] ?? 'item', 24);
  // The keys first, set again after the client's: keys a literal adds after a leading spread get a hidden class of their own (docs/design.md).
  const out = { type, id, ...item } as StoredItem;
  out.type = type;
  out.id = id;
  if (type === 'message') {
    if (typeof item.content === 'string') out.content = [textPart(item.role, item.content)];
    if (item.role === 'assistant') {
      out.status ??= 'completed';
      out.content = (out.content as Array<Record<string, unknown>>).map((part) =>
        part.type === 'input_text' || part.type === 'output_text' ? { annotations: [], logprobs: [], ...part, type: 'output_text' } : part,
      );
    }
  } else if (type === 'function_call' || type === 'function_call_output') {
    out.status ??= 'completed';
  }
  return out;
}
