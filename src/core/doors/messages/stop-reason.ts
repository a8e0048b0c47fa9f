import type { FinishReason } from '../../../contract/openai-shapes.js';

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

/** An OpenAI finish reason as Anthropic's stop_reason; a known stop sequence makes `stop` a stop_sequence. */
export function stopReason(finish: FinishReason | null | undefined, stopSequence: string | undefined): StopReason {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return stopSequence ? 'stop_sequence' : 'end_turn';
  }
}
