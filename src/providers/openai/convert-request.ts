import type { ChatRequest } from '../../core/chat/chat-request.js';
import { withoutGatewayFields } from './gateway-fields.js';
import type { OpenAIDialect } from './openai-dialect.js';

/**
 * The upstream body for an OpenAI-wire chat call: the client's request as
 * sent, minus the gateway's fields, with the routed model. Streams always
 * ask for usage so every stream can be billed; a non-stream call drops
 * `stream_options`, which OpenAI rejects without `stream`.
 */
export function toOpenAIChatBody(
  req: ChatRequest,
  upstreamModel: string,
  dialect: OpenAIDialect,
  stream: boolean,
): Record<string, unknown> {
  const body = withoutGatewayFields(req);
  body.model = upstreamModel;
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
