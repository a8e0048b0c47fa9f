import type { ChatCompletionChunk } from '../../../contract/openai-shapes.js';
import type { ChatService } from '../../chat/chat-service.js';
import type { RequestContext } from '../../request-context.js';
import { estimatePromptTokens } from '../../../tokens/count-tokens.js';
import { MESSAGES_PLAN } from './messages-plan.js';
import { type MessagesMessageObject, renderMessage } from './render-message.js';
import { MessagesEventWriter } from './render-events.js';

export type MessagesResponse =
  | { kind: 'json'; body: MessagesMessageObject; headers: Record<string, string> }
  | { kind: 'stream'; headers: Record<string, string>; events: AsyncGenerator<string, void, undefined> };

/** POST /v1/messages: the chat service runs the request; this renders its answer in Anthropic's shapes. */
export async function createMessage(chat: ChatService, ctx: RequestContext, body: unknown): Promise<MessagesResponse> {
  const run = await chat.run(ctx, body, MESSAGES_PLAN);
  if (run.kind === 'json') return { kind: 'json', body: renderMessage(run.completion, run.req.model), headers: run.headers };
  const writer = new MessagesEventWriter(run.req.model, estimatePromptTokens(run.req.messages, run.req.tools));
  return { kind: 'stream', headers: run.headers, events: messagesEvents(writer, run.batches) };
}

async function* messagesEvents(writer: MessagesEventWriter, batches: AsyncGenerator<ChatCompletionChunk[], void, undefined>): AsyncGenerator<string, void, undefined> {
  try {
    for await (const batch of batches) {
      const out = writer.batch(batch);
      if (out) yield out;
    }
    yield writer.end();
  } catch (e) {
    // Bytes were sent: no retry. The client gets Anthropic's error event.
    yield writer.error(e);
  }
}
