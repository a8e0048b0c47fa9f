import { createHash } from 'node:crypto';
import type { ChatMessage, ChatRequest, FunctionTool, ToolCall } from '../../contract/chat-request.js';

// What the mock says: deterministic, so tests and client developers can rely on it.

function lastUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    return m.content.map((p) => (p.type === 'text' ? p.text : '')).join(' ');
  }
  return '';
}

export function mockReplyText(req: ChatRequest): string {
  const last = req.messages[req.messages.length - 1]!;
  if (last.role === 'tool') {
    return `Test mode: the tool returned ${typeof last.content === 'string' ? last.content : JSON.stringify(last.content)}. That is all I needed.`;
  }
  // Only the start is quoted: collapsing the whitespace of a whole 4 MB message held the event loop ~90 ms.
  const said = lastUserText(req.messages).slice(0, 4096).replace(/\s+/g, ' ').trim().slice(0, 200);
  return `This is a test-mode reply from the gateway mock for ${req.model}. You said: "${said}". No upstream was called and nothing was charged.`;
}

/** The tool the mock calls, or undefined when it should answer in text. */
export function mockToolToCall(req: ChatRequest): FunctionTool | undefined {
  if (!req.tools?.length || req.tool_choice === 'none') return undefined;
  const last = req.messages[req.messages.length - 1]!;
  if (last.role === 'tool') return undefined;
  const choice = req.tool_choice;
  if (choice && typeof choice === 'object') return req.tools.find((t) => t.function.name === choice.function.name);
  return req.tools[0];
}

function sampleFor(schema: unknown, name: string): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  switch (s.type) {
    case 'string':
      return `sample ${name}`;
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [sampleFor(s.items, name)];
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const required = Array.isArray(s.required) ? (s.required as string[]) : Object.keys(props);
      return Object.fromEntries(required.map((key) => [key, sampleFor(props[key], key)]));
    }
    default:
      return `sample ${name}`;
  }
}

export function mockToolCall(tool: FunctionTool, req: ChatRequest): ToolCall {
  const id = createHash('sha256').update(JSON.stringify(req.messages)).update(tool.function.name).digest('hex');
  return {
    id: `call_${id.slice(0, 24)}`,
    type: 'function',
    function: { name: tool.function.name, arguments: JSON.stringify(sampleFor(tool.function.parameters, 'value')) },
  };
}
