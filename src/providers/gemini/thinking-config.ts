import type { ChatRequest } from '../../contract/chat-request.js';
import { ProviderError } from '../../contract/provider.js';

// The same budgets as for Anthropic (LiteLLM's); `none` turns thinking off.
const BUDGETS: Record<string, number> = { none: 0, minimal: 1024, low: 1024, medium: 2048, high: 4096, xhigh: 4096 };

export interface GeminiThinkingConfig {
  thinkingBudget: number;
  includeThoughts?: boolean;
}

/** `thinkingConfig` for `reasoning_effort` or `think: true`; an explicit effort wins. */
export function geminiThinkingConfig(req: ChatRequest): GeminiThinkingConfig | undefined {
  let budget: number | undefined;
  const effort = req.reasoning_effort;
  if (req.thinking_budget != null) {
    budget = req.thinking_budget;
  } else if (effort != null) {
    budget = BUDGETS[effort];
    if (budget === undefined) {
      throw new ProviderError(`reasoning_effort "${effort}" is not supported by gemini models`, 'client', undefined, undefined, 400);
    }
  } else if (req.think) {
    budget = BUDGETS.medium;
  }
  if (budget === undefined) return undefined;
  return budget === 0 ? { thinkingBudget: 0 } : { thinkingBudget: budget, includeThoughts: true };
}
