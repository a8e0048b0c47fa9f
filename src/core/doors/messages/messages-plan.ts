import type { ChatRequest } from '../../../contract/chat-request.js';
import { type ChatDoorPlan, chatSize } from '../../chat/chat-service.js';
import { type MessagesRequest, messagesRequestSchema } from './messages-request.js';
import { messagesToChat } from './to-chat.js';

// Translated once: admission sizes the chat request (and refuses what cannot
// be translated, before anything is reserved), the service runs it.
const translated = new WeakMap<MessagesRequest, ChatRequest>();
const toChat = (req: MessagesRequest): ChatRequest => {
  let chat = translated.get(req);
  if (!chat) {
    chat = messagesToChat(req);
    translated.set(req, chat);
  }
  return chat;
};

/** How the chat service admits and runs a POST /v1/messages body. */
export const MESSAGES_PLAN: ChatDoorPlan<typeof messagesRequestSchema> = {
  endpoint: 'messages',
  schema: messagesRequestSchema,
  model: (req) => req.model,
  stream: (req) => req.stream === true,
  size: (req, model) => chatSize(toChat(req), model),
  toChat,
};
