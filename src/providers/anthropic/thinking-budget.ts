import type { ChatRequest } from '../../contract/chat-request.js';
import { ProviderError } from '../../contract/provider.js';

// LiteLLM's budgets for reasoning_effort; `think: true` is medium.
const BUDGETS: Record<string, number | undefined> = {
  none: undefined,
  minimal: 1024,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 4096,
};

/** The thinking budget in tokens the request asks for, if any: `thinking_budget` as given, else an explicit `reasoning_effort`, else `think`. */
export function thinkingBudget(req: ChatRequest): number | undefined {
  if (req.thinking_budget != null) return req.thinking_budget === 0 ? undefined : req.thinking_budget;
  const effort = req.reasoning_effort;
  if (effort != null) {
    if (!(effort in BUDGETS)) {
      throw new ProviderError(`reasoning_effort "${effort}" is not supported by anthropic models`, 'client', undefined, undefined, 400);
    }
    return BUDGETS[effort];
  }
  return req.think ? BUDGETS.medium : undefined;
}

/** Anthropic's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

/**
 * The budget that fits inside max_tokens. As in OpenAI's API, max_tokens
 * bounds reasoning and answer together, and it is what the gateway reserved
 * for: adding the budget on top would let the upstream bill past the
 * reservation. Thinking gets at most half when max_tokens is small.
 */
export function fitThinkingBudget(budget: number, maxTokens: number): number {
  if (maxTokens <= MIN_THINKING_BUDGET) {
    throw new ProviderError(
      `max_tokens must be above ${MIN_THINKING_BUDGET} to think on anthropic models (it bounds reasoning and answer together)`,
      'client',
      undefined,
      undefined,
      400,
    );
  }
  return Math.min(budget, Math.max(MIN_THINKING_BUDGET, Math.floor(maxTokens / 2)));
}

/**
 * The budget sent: one the client gave in tokens stays as given when it fits
 * below max_tokens (raised to Anthropic's smallest), as the Messages API
 * itself would take it; an effort's budget, or one that does not fit, is fitted.
 */
export function sentThinkingBudget(req: ChatRequest, wanted: number, maxTokens: number): number {
  if (req.thinking_budget != null) {
    const exact = Math.max(MIN_THINKING_BUDGET, wanted);
    if (exact < maxTokens) return exact;
  }
  return fitThinkingBudget(wanted, maxTokens);
}
