import type { FinishReason } from '../../contract/openai-shapes.js';

const KNOWN = new Set<string>(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);

/** Compatible servers invent their own reasons (`eos`, `end_turn`); those read as `stop`. */
export function mapOpenAIFinishReason(reason: string | null | undefined): FinishReason {
  if (reason && KNOWN.has(reason)) return reason as FinishReason;
  return 'stop';
}
