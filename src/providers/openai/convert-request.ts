import { type ChatRequest, requestedMaxTokens } from '../../contract/chat-request.js';
import { messagesWithoutCarriage, toolsWithoutCarriage } from './anthropic-carriage.js';
import { withoutGatewayFields } from './gateway-fields.js';
import type { OpenAIDialect } from './openai-dialect.js';

const CAP_FIELDS: ReadonlySet<string> = new Set(['max_tokens', 'max_completion_tokens']);

/**
 * The upstream body for an OpenAI-wire chat call: the client's request as
 * sent, minus the gateway's fields, with the routed model. Streams always
 * ask for usage so every stream can be billed; a non-stream call drops
 * `stream_options`, which OpenAI rejects without `stream`.
 *
 * The output cap goes in the dialect's one field, never both: an upstream
 * reading the other field would generate (and bill) past the reservation.
 * `outputCap` is what the gateway reserved for (CallContext.maxOutputTokens).
 */
export function toOpenAIChatBody(
  req: ChatRequest,
  upstreamModel: string,
  dialect: OpenAIDialect,
  stream: boolean,
  outputCap?: number,
): Record<string, unknown> {
  const body = withoutGatewayFields(req, CAP_FIELDS);
  body.model = upstreamModel;
  if (dialect.info.id !== 'openai-compatible') {
    body.messages = messagesWithoutCarriage(req.messages);
    if (req.tools) body.tools = toolsWithoutCarriage(req.tools);
  }
  const cap = outputCap ?? requestedMaxTokens(req);
  if (cap !== undefined) body[dialect.capField] = cap;
  if (req.think) Object.assign(body, dialect.think(req));
  if (req.deepsearch) Object.assign(body, dialect.deepsearch(req));
  if (stream) {
    body.stream = true;
    body.stream_options = { ...(req.stream_options ?? {}), include_usage: true };
  } else {
    delete body.stream;
    delete body.stream_options;
  }
  return body;
}
