import type { ChatRequest } from '../../contract/chat-request.js';
import { ProviderError } from '../../contract/provider.js';

const unsupported = (option: string) =>
  new ProviderError(`${option} is not supported by anthropic models`, 'client', undefined, undefined, 400);

/**
 * OpenAI options the Messages API has no equivalent for. Rather than drop
 * them silently, the call fails with a 400 naming the option; defaults
 * (n: 1, penalty 0, logprobs false) are fine.
 */
export function assertAnthropicSupports(req: ChatRequest): void {
  const extra = req as Record<string, unknown>;
  if (req.n != null && req.n > 1) throw unsupported('n > 1');
  if (extra.logprobs === true) throw unsupported('logprobs');
  if (extra.top_logprobs != null) throw unsupported('top_logprobs');
  if (req.seed != null) throw unsupported('seed');
  if (req.presence_penalty) throw unsupported('presence_penalty');
  if (req.frequency_penalty) throw unsupported('frequency_penalty');
  if (extra.logit_bias && typeof extra.logit_bias === 'object' && Object.keys(extra.logit_bias).length > 0) {
    throw unsupported('logit_bias');
  }
  if (extra.audio != null || (Array.isArray(extra.modalities) && extra.modalities.includes('audio'))) {
    throw unsupported('audio output');
  }
  if (extra.prediction != null) throw unsupported('prediction');
}
