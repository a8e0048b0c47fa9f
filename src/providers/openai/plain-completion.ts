import { isObject, optCount, optInteger, optNumber, optString } from '../http/json-checks.js';
import type { OpenAICompletion } from './openai-response-schema.js';

// The answer of a chat completion that is text (no tool calls, no
// annotations) checked as openai/plain-chunk.ts checks a stream frame: what
// openaiCompletionSchema asks of every field convertOpenAIResponse reads,
// without the schema's copy (1.2 KB a request by `npm run bench -- --alloc`,
// ~2 % of all it allocates). Anything else goes
// through the schema; test/providers/openai/plain-completion.test.ts holds the
// two to the same answers.

const optDetails = (v: unknown, key: string) => v == null || (isObject(v) && optInteger(v[key]));

function plainUsage(usage: unknown): boolean {
  if (usage == null) return true;
  if (!isObject(usage) || usage.prompt_tokens == null || !optCount(usage.prompt_tokens)) return false;
  return (
    optCount(usage.completion_tokens) &&
    optCount(usage.total_tokens) &&
    optInteger(usage.prompt_cache_hit_tokens) &&
    optDetails(usage.prompt_tokens_details, 'cached_tokens') &&
    optDetails(usage.prompt_tokens_details, 'cache_write_tokens') &&
    optDetails(usage.prompt_tokens_details, 'cache_write_1h_tokens') &&
    optDetails(usage.completion_tokens_details, 'reasoning_tokens')
  );
}

function plainMessage(m: unknown): boolean {
  return (
    isObject(m) &&
    m.tool_calls == null &&
    m.annotations == null &&
    optString(m.content) &&
    optString(m.refusal) &&
    optString(m.reasoning_content) &&
    optString(m.reasoning)
  );
}

const plainChoice = (c: unknown) => isObject(c) && optInteger(c.index) && optString(c.finish_reason) && plainMessage(c.message);

/** The body itself when it is a text answer the schema would accept as it is; else undefined. */
export function plainCompletion(json: unknown): OpenAICompletion | undefined {
  if (!isObject(json) || !Array.isArray(json.choices) || !json.choices.every(plainChoice)) return undefined;
  if (!(optString(json.id) && optNumber(json.created) && optString(json.model) && optString(json.system_fingerprint))) return undefined;
  return plainUsage(json.usage) ? (json as OpenAICompletion) : undefined;
}
