import { makeUsage, type Usage } from '../../contract/openai-shapes.js';
import type { GeminiUsage } from './gemini-response-schema.js';

/**
 * Thoughts are billed as output, so they count as completion tokens; the
 * prompt the search tool added counts as prompt, so totals match Gemini's.
 */
export function convertGeminiUsage(usage: GeminiUsage): Usage {
  const thoughts = usage.thoughtsTokenCount ?? 0;
  return makeUsage(
    (usage.promptTokenCount ?? 0) + (usage.toolUsePromptTokenCount ?? 0),
    (usage.candidatesTokenCount ?? 0) + thoughts,
    usage.cachedContentTokenCount ?? 0,
    thoughts,
  );
}
