import type { Settlement } from '../../src/core/billing/settle.js';

/** A request that ended well at `cost`: 10 prompt and 5 completion tokens, in one attempt. */
export const okSettlement = (requestId: string, cost: bigint, extra: Partial<Settlement> = {}): Settlement => ({
  requestId,
  status: 'ok',
  httpStatus: 200,
  promptTokens: 10,
  completionTokens: 5,
  cachedTokens: 0,
  reasoningTokens: 0,
  cost,
  attempts: 1,
  ...extra,
});
