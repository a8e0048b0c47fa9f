import type { ChatMessage, ChatRequest, ContentPart, FunctionTool, ToolCall } from '../../../contract/chat-request.js';
import type { ThinkingBlock } from '../../../contract/openai-shapes.js';
import { GatewayError } from '../../errors.js';
import type {
  CountTokensRequest,
  MessagesContentBlock,
  MessagesDocumentBlock,
  MessagesImageBlock,
  MessagesMessage,
  MessagesRequest,
  MessagesTextBlock,
  MessagesTool,
} from './messages-request.js';

// The Messages body as the internal (OpenAI-shaped) chat request. What an
// Anthropic upstream needs back natively rides along where its adapter
// reads it: `cache_control` on the content parts, system parts, tool
// messages, tool calls and tools it was on; signed thinking as the assistant
// message's `thinking_blocks`; the exact budget as `thinking_budget`. An
// OpenAI upstream gets none of it (providers/openai/anthropic-carriage.ts).

const invalid = (message: string, param: string) => new GatewayError('invalid_request', message, { param });

/** `cache_control` copied onto what a block becomes, when it had one. */
const cached = <T extends object>(target: T, block: { cache_control?: unknown }): T =>
  // The key first (targets are made here without it): keys a literal adds after a leading spread get a hidden class of their own (docs/design.md).
  block.cache_control != null ? { cache_control: block.cache_control, ...target } : target;

const textPart = (block: MessagesTextBlock): ContentPart => cached({ type: 'text', text: block.text }, block);

function imagePart(block: MessagesImageBlock): ContentPart {
  const url = block.source.type === 'base64' ? `data:${block.source.media_type};base64,${block.source.data}` : block.source.url;
  return cached({ type: 'image_url', image_url: { url } }, block);
}

function documentPart(block: MessagesDocumentBlock, param: string): ContentPart {
  const { source } = block;
  if (source.type === 'text') return cached({ type: 'text', text: source.data }, block);
  if (source.type === 'base64') {
    const file = { file_data: `data:application/pdf;base64,${source.data}`, ...(block.title ? { filename: block.title } : {}) };
    return cached({ type: 'file', file }, block);
  }
  throw invalid('A document with a url source is not supported by this gateway: send the PDF as base64.', param);
}

function toolCall(block: Extract<MessagesContentBlock, { type: 'tool_use' }>): ToolCall {
  return cached({ id: block.id, type: 'function' as const, function: { name: block.name, arguments: JSON.stringify(block.input) } }, block);
}

/**
 * A user turn: its tool results first, as tool messages (OpenAI wants them
 * right after the calls), then the rest as one user message. Images inside a
 * tool result follow it in that user message: the chat request's tool
 * messages hold text alone.
 */
function userMessages(content: MessagesContentBlock[], where: string): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  content.forEach((block, j) => {
    const param = `${where}.content.${j}`;
    switch (block.type) {
      case 'text':
        parts.push(textPart(block));
        break;
      case 'image':
        parts.push(imagePart(block));
        break;
      case 'document':
        parts.push(documentPart(block, param));
        break;
      case 'tool_result': {
        const texts: Array<{ type: 'text'; text: string; cache_control?: unknown }> = [];
        if (typeof block.content === 'string') texts.push({ type: 'text', text: block.content });
        else
          for (const [k, inner] of (block.content ?? []).entries()) {
            if (inner.type === 'text') texts.push(cached({ type: 'text' as const, text: inner.text }, inner));
            else if (inner.type === 'image') parts.push(imagePart(inner));
            else parts.push(documentPart(inner, `${param}.content.${k}`));
          }
        const message: ChatMessage = cached({ role: 'tool' as const, tool_call_id: block.tool_use_id, content: texts.length > 0 ? texts : '' }, block);
        if (block.is_error) (message as Record<string, unknown>).is_error = true;
        tools.push(message);
        break;
      }
      default:
        throw invalid(`A ${block.type} block can only be in an assistant message.`, `${param}.type`);
    }
  });
  return parts.length > 0 ? [...tools, { role: 'user', content: parts }] : tools;
}

function assistantMessage(content: MessagesContentBlock[], where: string): ChatMessage {
  const texts: MessagesTextBlock[] = [];
  const calls: ToolCall[] = [];
  const signed: ThinkingBlock[] = [];
  const thoughts: string[] = [];
  content.forEach((block, j) => {
    switch (block.type) {
      case 'text':
        texts.push(block);
        break;
      case 'tool_use':
        calls.push(toolCall(block));
        break;
      case 'thinking':
        // Signed reasoning goes back to Anthropic as it was. Unsigned is what another provider
        // produced (the door renders its reasoning so): it goes back as that provider's reasoning_content.
        if (block.signature) signed.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
        else thoughts.push(block.thinking);
        break;
      case 'redacted_thinking':
        signed.push({ type: 'redacted_thinking', data: block.data });
        break;
      default:
        throw invalid(`A ${block.type} block can only be in a user message.`, `${where}.content.${j}.type`);
    }
  });
  const keepParts = texts.some((t) => t.cache_control != null);
  const message: Extract<ChatMessage, { role: 'assistant' }> = {
    role: 'assistant',
    content: keepParts ? texts.map((t) => cached({ type: 'text' as const, text: t.text }, t)) : texts.length > 0 ? texts.map((t) => t.text).join('') : null,
  };
  if (calls.length > 0) message.tool_calls = calls;
  if (thoughts.length > 0) message.reasoning_content = thoughts.join('');
  if (signed.length > 0) message.thinking_blocks = signed;
  return message;
}

function chatMessages(req: CountTokensRequest): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (typeof req.system === 'string') {
    if (req.system.length > 0) out.push({ role: 'system', content: req.system });
  } else if (req.system && req.system.length > 0) {
    out.push({ role: 'system', content: req.system.map((b) => cached({ type: 'text' as const, text: b.text }, b)) });
  }
  req.messages.forEach((m: MessagesMessage, i) => {
    const where = `messages.${i}`;
    if (typeof m.content === 'string') out.push({ role: m.role, content: m.content });
    else if (m.role === 'user') out.push(...userMessages(m.content, where));
    else out.push(assistantMessage(m.content, where));
  });
  return out;
}

const isCustomTool = (tool: MessagesTool): tool is Extract<MessagesTool, { input_schema: unknown }> =>
  'input_schema' in tool && (tool.type == null || tool.type === 'custom');

function chatTools(tools: MessagesTool[] | undefined): { tools?: FunctionTool[]; deepsearch?: boolean } {
  if (!tools || tools.length === 0) return {};
  const functions: FunctionTool[] = [];
  let search = false;
  tools.forEach((tool, i) => {
    if (isCustomTool(tool)) {
      functions.push(
        cached(
          { type: 'function' as const, function: { name: tool.name, ...(tool.description ? { description: tool.description } : {}), parameters: tool.input_schema } },
          tool,
        ),
      );
    } else if (typeof tool.type === 'string' && tool.type.startsWith('web_search_')) search = true;
    else throw invalid(`The server tool '${String(tool.type)}' is not supported by this gateway; custom tools and web_search are.`, `tools.${i}.type`);
  });
  return { ...(functions.length > 0 ? { tools: functions } : {}), ...(search ? { deepsearch: true } : {}) };
}

/** The OpenAI-wire reasoning effort nearest a budget (LiteLLM's budgets: low 1024, medium 2048, high 4096). */
const effortFor = (budget: number): string => (budget < 2048 ? 'low' : budget < 4096 ? 'medium' : 'high');

function toolChoice(req: CountTokensRequest): Pick<ChatRequest, 'tool_choice' | 'parallel_tool_calls'> {
  const choice = req.tool_choice;
  if (!choice) return {};
  const parallel = 'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  switch (choice.type) {
    case 'auto':
      return { tool_choice: 'auto', ...parallel };
    case 'any':
      return { tool_choice: 'required', ...parallel };
    case 'none':
      return { tool_choice: 'none' };
    case 'tool':
      return { tool_choice: { type: 'function', function: { name: choice.name } }, ...parallel };
  }
}

function thinkingFields(req: CountTokensRequest): Pick<ChatRequest, 'thinking_budget' | 'reasoning_effort' | 'think'> {
  const thinking = req.thinking;
  if (thinking?.type === 'enabled') return { thinking_budget: thinking.budget_tokens, reasoning_effort: effortFor(thinking.budget_tokens) };
  // Claude picks its own budget: each upstream's default reasoning.
  if (thinking?.type === 'adaptive') return { think: true };
  return {};
}

/** The prompt half (what count_tokens reads too). */
export function promptToChat(req: CountTokensRequest): ChatRequest {
  return {
    model: req.model,
    messages: chatMessages(req),
    ...chatTools(req.tools),
    ...toolChoice(req),
    ...thinkingFields(req),
  };
}

/** A whole Messages request as the chat request the core runs. */
export function messagesToChat(req: MessagesRequest): ChatRequest {
  const chat = promptToChat(req);
  chat.max_tokens = req.max_tokens;
  if (req.stream) chat.stream = true;
  if (req.temperature != null) chat.temperature = req.temperature;
  if (req.top_p != null) chat.top_p = req.top_p;
  // Anthropic and Gemini upstreams take top_k; OpenAI-wire ones get it as sent (vLLM and others read it, OpenAI refuses it).
  if (req.top_k != null) (chat as Record<string, unknown>).top_k = req.top_k;
  if (req.stop_sequences && req.stop_sequences.length > 0) chat.stop = req.stop_sequences;
  if (req.metadata?.user_id) chat.user = req.metadata.user_id;
  return chat;
}
