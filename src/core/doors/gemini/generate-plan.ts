import { type ChatDoorPlan, chatSize } from '../../chat/chat-service.js';
import { generateContentSchema, type GenerateContentRequest } from './generate-request.js';
import { geminiToChat } from './to-chat.js';

// Translated once: admission sizes the chat request (and refuses what
// cannot be translated, before anything is reserved), the service runs it.
const translated = new WeakMap<GenerateContentRequest, ReturnType<typeof geminiToChat>>();
const toChat = (req: GenerateContentRequest) => {
  let chat = translated.get(req);
  if (!chat) {
    chat = geminiToChat(req);
    translated.set(req, chat);
  }
  return chat;
};

/** How the chat service admits and runs a generateContent / streamGenerateContent body. */
export const GENERATE_CONTENT_PLAN: ChatDoorPlan<typeof generateContentSchema> = {
  endpoint: 'generate_content',
  schema: generateContentSchema,
  model: (req) => req.model,
  stream: (req) => req.stream,
  size: (req, model) => chatSize(toChat(req), model),
  toChat,
};

/** The door's body for admission: the path's model and the action's stream flag on Google's body. */
export function generateContentBody(body: unknown, model: string, stream: boolean): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  return { ...(body as Record<string, unknown>), model, stream };
}
