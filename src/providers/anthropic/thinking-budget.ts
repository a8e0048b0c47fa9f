import type { ChatRequest } from '../../core/chat/chat-request.js';
import { ProviderError } from '../provider.js';

// LiteLLM's budgets for reasoning_effort; `think: true` is medium.
const BUDGETS: Record<string, number | undefined> = {
  none: undefined,
  minimal: 1024,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 4096,
};

/** The thinking budget in tokens the request asks for, if any. An explicit `reasoning_effort` wins over `think`. */
export function thinkingBudget(req: ChatRequest): number | undefined {
  const effort = req.reasoning_effort;
  if (effort != null) {
    if (!(effort in BUDGETS)) {
      throw new ProviderError(`reasoning_effort "${effort}" is not supported by anthropic models`, 'client', undefined, undefined, 400);
    }
    return BUDGETS[effort];
  }
  return req.think ? BUDGETS.medium : undefined;
}

/** Anthropic needs max_tokens above the budget; a small ceiling gets the budget added on top, so the answer keeps its room. */
export const maxTokensWithThinking = (maxTokens: number, budget: number): number =>
  maxTokens > budget ? maxTokens : budget + maxTokens;
