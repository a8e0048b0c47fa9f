import { newId } from '../../../contract/ids.js';
import type { ChatCompletion, FinishReason, Usage } from '../../../contract/openai-shapes.js';
import type { ResponsesRequest } from '../../../contract/responses-request.js';

// The Responses `response` object, as OpenAI's OpenAPI spec (`Response`)
// describes it: the answer's output items, its usage, its status, and the
// request's settings echoed back.

export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'incomplete' | 'failed' | 'cancelled';

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
  logprobs: never[];
}

export interface MessageOutput {
  type: 'message';
  id: string;
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: Array<OutputText | { type: 'refusal'; refusal: string }>;
}

export interface FunctionCallOutput {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: 'in_progress' | 'completed' | 'incomplete';
}

export interface ReasoningOutput {
  type: 'reasoning';
  id: string;
  summary: never[];
  content: Array<{ type: 'reasoning_text'; text: string }>;
  status: 'in_progress' | 'completed' | 'incomplete';
}

export type OutputItem = MessageOutput | FunctionCallOutput | ReasoningOutput;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseError {
  code: 'server_error' | 'rate_limit_exceeded' | 'invalid_prompt';
  message: string;
}

/** A type, not an interface: the store takes it as a JSON record. */
export type ResponseObject = {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  completed_at: number | null;
  error: ResponseError | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  background: boolean;
  temperature: number;
  top_p: number;
  text: { format: Record<string, unknown>; verbosity?: string };
  tool_choice: unknown;
  tools: unknown[];
  truncation: 'disabled';
  usage?: ResponseUsage;
  user?: string;
  metadata: Record<string, string>;
};

/** Everything a response object says besides its request's settings. */
export interface ResponseOutcome {
  id: string;
  createdAt: number;
  status: ResponseStatus;
  output: OutputItem[];
  usage?: ResponseUsage | undefined;
  error?: ResponseError | null;
  incomplete?: 'max_output_tokens' | 'content_filter' | undefined;
}

export const newResponseId = (): string => newId('resp', 32);
export const newItemId = (prefix: 'msg' | 'fc' | 'rs'): string => newId(prefix, 32);
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function responseUsage(u: Usage): ResponseUsage {
  const details = u.prompt_tokens_details;
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: details?.cached_tokens ?? 0, cache_write_tokens: (details?.cache_write_tokens ?? 0) + (details?.cache_write_1h_tokens ?? 0) },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: u.prompt_tokens + u.completion_tokens,
  };
}

/** Why an answer that ended with `reason` is incomplete, if it is. */
export const incompleteReason = (reason: FinishReason | null | undefined): ResponseOutcome['incomplete'] =>
  reason === 'length' ? 'max_output_tokens' : reason === 'content_filter' ? 'content_filter' : undefined;

/** The output items of a finished completion: reasoning, then the message, then function calls. */
export function outputOf(completion: ChatCompletion): OutputItem[] {
  const choice = completion.choices[0];
  if (!choice) return [];
  const { message } = choice;
  const itemStatus = incompleteReason(choice.finish_reason) ? 'incomplete' : 'completed';
  const output: OutputItem[] = [];
  if (message.reasoning_content) {
    output.push({ type: 'reasoning', id: newItemId('rs'), summary: [], content: [{ type: 'reasoning_text', text: message.reasoning_content }], status: itemStatus });
  }
  const content: MessageOutput['content'] = [];
  if (message.content) content.push({ type: 'output_text', text: message.content, annotations: [], logprobs: [] });
  if (message.refusal) content.push({ type: 'refusal', refusal: message.refusal });
  if (content.length > 0) output.push({ type: 'message', id: newItemId('msg'), status: itemStatus, role: 'assistant', content });
  for (const call of message.tool_calls ?? []) {
    output.push({ type: 'function_call', id: newItemId('fc'), call_id: call.id, name: call.function.name, arguments: call.function.arguments, status: 'completed' });
  }
  return output;
}

/** The request's settings as the response object echoes them. */
function echoed(req: ResponsesRequest): Omit<ResponseObject, 'id' | 'object' | 'created_at' | 'status' | 'completed_at' | 'error' | 'incomplete_details' | 'output' | 'usage'> {
  return {
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: req.model,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: req.reasoning?.summary ?? null },
    store: req.store !== false,
    background: req.background === true,
    temperature: req.temperature ?? 1,
    top_p: req.top_p ?? 1,
    text: { format: req.text?.format ?? { type: 'text' }, ...(req.text?.verbosity ? { verbosity: req.text.verbosity } : {}) },
    tool_choice: req.tool_choice ?? 'auto',
    tools: (req.tools ?? []).map((t) => ({ type: 'function', name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? null })),
    truncation: 'disabled',
    ...(req.user ? { user: req.user } : {}),
    metadata: req.metadata ?? {},
  };
}

/** The response object of `req` at `outcome`. */
export function responseObject(req: ResponsesRequest, outcome: ResponseOutcome): ResponseObject {
  return {
    id: outcome.id,
    object: 'response',
    created_at: outcome.createdAt,
    status: outcome.status,
    completed_at: outcome.status === 'completed' ? nowSeconds() : null,
    error: outcome.error ?? null,
    incomplete_details: outcome.incomplete ? { reason: outcome.incomplete } : null,
    ...echoed(req),
    output: outcome.output,
    ...(outcome.usage ? { usage: outcome.usage } : {}),
  };
}

/** A finished non-stream answer as its response object. */
export function renderResponse(req: ResponsesRequest, completion: ChatCompletion, id: string, createdAt: number): ResponseObject {
  const incomplete = incompleteReason(completion.choices[0]?.finish_reason);
  return responseObject(req, {
    id,
    createdAt,
    status: incomplete ? 'incomplete' : 'completed',
    output: outputOf(completion),
    // An upstream that reported no usage leaves it to the caller's count.
    usage: completion.usage ? responseUsage(completion.usage) : undefined,
    incomplete,
  });
}
