import { chatDoorPlan } from '../door-plan.js';
import { generateContentSchema } from './generate-request.js';
import { geminiToChat } from './to-chat.js';

/** How the chat service admits and runs a generateContent / streamGenerateContent body. */
export const GENERATE_CONTENT_PLAN = chatDoorPlan({
  endpoint: 'generate_content',
  schema: generateContentSchema,
  model: (req) => req.model,
  stream: (req) => req.stream,
  translate: geminiToChat,
});

/** The door's body for admission: the path's model and the action's stream flag on Google's body. */
export function generateContentBody(body: unknown, model: string, stream: boolean): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  // Keys first, set again after the client's: keys a literal adds after a leading spread get a hidden class of their own (docs/design.md).
  const out: Record<string, unknown> = { model, stream, ...(body as Record<string, unknown>) };
  out.model = model;
  out.stream = stream;
  return out;
}
