import type { ChatRequest } from '../../contract/chat-request.js';
import { ProviderError } from '../../contract/provider.js';

const unsupported = (option: string) =>
  new ProviderError(`${option} is not supported by gemini models`, 'client', undefined, undefined, 400);

/** OpenAI options the gateway cannot express for Gemini: a 400 naming the option instead of a silent drop. */
export function assertGeminiSupports(req: ChatRequest): void {
  const extra = req as Record<string, unknown>;
  if (extra.logprobs === true) throw unsupported('logprobs');
  if (extra.top_logprobs != null) throw unsupported('top_logprobs');
  if (extra.logit_bias && typeof extra.logit_bias === 'object' && Object.keys(extra.logit_bias).length > 0) {
    throw unsupported('logit_bias');
  }
  if (extra.audio != null || (Array.isArray(extra.modalities) && extra.modalities.includes('audio'))) {
    throw unsupported('audio output');
  }
  if (extra.prediction != null) throw unsupported('prediction');
}
