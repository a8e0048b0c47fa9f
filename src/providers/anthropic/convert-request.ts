import { requestedMaxTokens, type ChatRequest } from '../../contract/chat-request.js';
import { ProviderError } from '../../contract/provider.js';
import { continuesToolLoop, convertToAnthropicPrompt } from './convert-messages.js';
import { convertToAnthropicTools } from './convert-tools.js';
import { sentThinkingBudget, thinkingBudget } from './thinking-budget.js';
import { assertAnthropicSupports } from './unsupported-options.js';

/** Required by the Messages API; used when neither the gateway's cap nor the request gives one. */
export const DEFAULT_MAX_TOKENS = 4096;

export interface AnthropicRequestPlan {
  body: Record<string, unknown>;
  /** The forced JSON tool, whose input is the answer's `content`. */
  jsonToolName?: string;
}

const invalid = (message: string) => new ProviderError(message, 'client', undefined, undefined, 400);

/** `outputCap` is what the gateway reserved for (see CallContext.maxOutputTokens): Anthropic's max_tokens. */
export function toAnthropicRequest(req: ChatRequest, upstreamModel: string, stream: boolean, outputCap?: number): AnthropicRequestPlan {
  assertAnthropicSupports(req);
  const { system, messages } = convertToAnthropicPrompt(req.messages);
  if (messages.length === 0) throw invalid('messages must contain at least one non-system message with content');

  // A tool loop continued from OpenAI history has no signed thinking block
  // to replay, which Anthropic would reject; that step runs without thinking.
  const maxTokens = outputCap ?? requestedMaxTokens(req) ?? DEFAULT_MAX_TOKENS;
  const wanted = continuesToolLoop(req.messages) ? undefined : thinkingBudget(req);
  const budget = wanted === undefined ? undefined : sentThinkingBudget(req, wanted, maxTokens);
  const topK = (req as Record<string, unknown>).top_k;

  if (budget !== undefined) {
    if (req.temperature != null && req.temperature !== 1) throw invalid('temperature must be unset or 1 when thinking is enabled on anthropic models');
    if (req.top_p != null && req.top_p < 0.95) throw invalid('top_p must be unset or at least 0.95 when thinking is enabled on anthropic models');
    if (topK != null) throw invalid('top_k cannot be set when thinking is enabled on anthropic models');
    if (req.tool_choice === 'required' || (req.tool_choice && typeof req.tool_choice === 'object')) {
      throw invalid('tool_choice cannot force a tool when thinking is enabled on anthropic models');
    }
  }
  const tools = convertToAnthropicTools(req, budget !== undefined);

  const body: Record<string, unknown> = {
    model: upstreamModel,
    max_tokens: maxTokens,
    messages,
  };
  if (system.length > 0) body.system = system;
  if (req.temperature != null) body.temperature = req.temperature;
  if (req.top_p != null) body.top_p = req.top_p;
  if (typeof topK === 'number') body.top_k = topK;
  if (req.stop != null) {
    const stops = (typeof req.stop === 'string' ? [req.stop] : req.stop).filter((s) => s.length > 0);
    if (stops.length > 0) body.stop_sequences = stops;
  }
  if (tools.tools) body.tools = tools.tools;
  if (tools.tool_choice) body.tool_choice = tools.tool_choice;
  if (budget !== undefined) body.thinking = { type: 'enabled', budget_tokens: budget };
  if (req.user) body.metadata = { user_id: req.user };
  if (stream) body.stream = true;
  return { body, ...(tools.jsonToolName ? { jsonToolName: tools.jsonToolName } : {}) };
}
