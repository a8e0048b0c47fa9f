import type { FinishReason } from '../../contract/openai-shapes.js';

/** Gemini says STOP after function calls too; those turns are `tool_calls`. */
export function mapGeminiFinishReason(reason: string | null | undefined, hasFunctionCalls: boolean): FinishReason {
  if (hasFunctionCalls) return 'tool_calls';
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'RECITATION':
      return 'content_filter';
    default:
      return 'stop';
  }
}
