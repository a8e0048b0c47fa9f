import type { ChatRequest } from '../../contract/chat-request.js';
import { toGeminiParameters } from './convert-json-schema.js';

export interface GeminiTools {
  tools?: Array<Record<string, unknown>>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
}

/** Function tools, `tool_choice` and web search (`deepsearch` / `web_search_options` → googleSearch). */
export function convertToGeminiTools(req: ChatRequest): GeminiTools {
  const tools: Array<Record<string, unknown>> = [];
  const declarations = (req.tools ?? []).map((tool) => {
    const parameters = toGeminiParameters(tool.function.parameters);
    return {
      name: tool.function.name,
      ...(tool.function.description ? { description: tool.function.description } : {}),
      ...(parameters ? { parameters } : {}),
    };
  });
  if (declarations.length > 0) tools.push({ functionDeclarations: declarations });
  if (req.deepsearch || (req as Record<string, unknown>).web_search_options != null) tools.push({ googleSearch: {} });
  if (tools.length === 0) return {};

  const choice = req.tool_choice;
  if (declarations.length === 0 || choice == null) return { tools };
  if (choice === 'none') return { tools, toolConfig: { functionCallingConfig: { mode: 'NONE' } } };
  if (choice === 'auto') return { tools, toolConfig: { functionCallingConfig: { mode: 'AUTO' } } };
  if (choice === 'required') return { tools, toolConfig: { functionCallingConfig: { mode: 'ANY' } } };
  return { tools, toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } } };
}
