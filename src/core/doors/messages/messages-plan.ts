import { chatDoorPlan } from '../door-plan.js';
import { messagesRequestSchema } from './messages-request.js';
import { messagesToChat } from './to-chat.js';

/** How the chat service admits and runs a POST /v1/messages body. */
export const MESSAGES_PLAN = chatDoorPlan({
  endpoint: 'messages',
  schema: messagesRequestSchema,
  model: (req) => req.model,
  stream: (req) => req.stream === true,
  translate: messagesToChat,
});
