import type { ChatRequest } from '../../contract/chat-request.js';
import { ProviderError } from '../../contract/provider.js';
import { webSearchTool } from './web-search-tool.js';

/** The forced tool that carries `response_format` JSON (LiteLLM's approach); its input comes back as `content`. */
export const JSON_TOOL_NAME = 'json_tool_call';

export interface AnthropicTools {
  tools?: Array<Record<string, unknown>>;
  tool_choice?: Record<string, unknown>;
  /** Set when a JSON tool was added: its call is the answer, not a tool call. */
  jsonToolName?: string;
}

const invalid = (message: string) => new ProviderError(message, 'client', undefined, undefined, 400);

function objectSchema(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!schema) return { type: 'object', properties: {} };
  return schema.type === undefined ? { type: 'object', ...schema } : schema;
}

function jsonTool(req: ChatRequest): Record<string, unknown> | undefined {
  const format = req.response_format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') {
    return { name: JSON_TOOL_NAME, description: 'Respond with a JSON object.', input_schema: { type: 'object', additionalProperties: true } };
  }
  const schema = format.json_schema.schema;
  if (schema && schema.type !== undefined && schema.type !== 'object') {
    throw invalid('response_format.json_schema.schema must describe an object for anthropic models');
  }
  return {
    name: JSON_TOOL_NAME,
    description: format.json_schema.description ?? `Respond with ${format.json_schema.name} as JSON.`,
    input_schema: objectSchema(schema ?? { type: 'object', additionalProperties: true }),
  };
}

/**
 * `tools`, `tool_choice`, `parallel_tool_calls`, `response_format` and web
 * search as Messages API tools. A JSON format forces its tool when the
 * client has no tools of its own, and otherwise makes some tool call
 * mandatory, so the answer is either structured output or a tool call.
 */
export function convertToAnthropicTools(req: ChatRequest, thinking: boolean): AnthropicTools {
  const tools: Array<Record<string, unknown>> = (req.tools ?? []).map((tool) => {
    const cacheControl = (tool as { cache_control?: unknown }).cache_control;
    return {
      name: tool.function.name,
      ...(tool.function.description ? { description: tool.function.description } : {}),
      input_schema: objectSchema(tool.function.parameters),
      // A cache breakpoint on a tool (OpenRouter's and LiteLLM's place for it) caches the tools list up to it.
      ...(cacheControl != null ? { cache_control: cacheControl } : {}),
    };
  });
  const hasClientTools = tools.length > 0;

  const json = jsonTool(req);
  if (json && thinking) {
    throw invalid('response_format json cannot be combined with think/reasoning_effort on anthropic models (thinking cannot force a tool)');
  }
  if (json) tools.push(json);

  const search = webSearchTool(req);
  if (search) tools.push(search);

  if (tools.length === 0) return {};

  let choice: Record<string, unknown> | undefined;
  const requested = req.tool_choice;
  if (json && !hasClientTools) choice = { type: 'tool', name: JSON_TOOL_NAME };
  else if (requested === 'none') choice = json ? { type: 'tool', name: JSON_TOOL_NAME } : { type: 'none' };
  else if (requested === 'required') choice = { type: 'any' };
  else if (requested && typeof requested === 'object') choice = { type: 'tool', name: requested.function.name };
  else if (json) choice = { type: 'any' };
  else if (requested === 'auto') choice = { type: 'auto' };

  if (req.parallel_tool_calls === false && choice?.type !== 'none') {
    choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }

  return { tools, ...(choice ? { tool_choice: choice } : {}), ...(json ? { jsonToolName: JSON_TOOL_NAME } : {}) };
}
