import type { z } from 'zod';
import type { ChatRequest } from '../../contract/chat-request.js';
import type { Endpoint } from '../../contract/endpoints.js';
import { type ChatDoorPlan, chatSize } from '../chat/chat-service.js';

/**
 * A door's plan for the chat service, its body translated once: admission
 * sizes the chat request (and refuses what cannot be translated, before
 * anything is reserved), then the service runs the same translation.
 */
export function chatDoorPlan<S extends z.ZodType>(door: {
  endpoint: Endpoint;
  schema: S;
  model(req: z.infer<S>): string;
  stream(req: z.infer<S>): boolean;
  translate(req: z.infer<S>): ChatRequest;
}): ChatDoorPlan<S> {
  const translated = new WeakMap<object, ChatRequest>();
  const toChat = (req: z.infer<S>): ChatRequest => {
    let chat = translated.get(req as object);
    if (!chat) {
      chat = door.translate(req);
      translated.set(req as object, chat);
    }
    return chat;
  };
  return {
    endpoint: door.endpoint,
    schema: door.schema,
    model: door.model,
    stream: door.stream,
    size: (req, model) => chatSize(toChat(req), model),
    toChat,
  };
}
