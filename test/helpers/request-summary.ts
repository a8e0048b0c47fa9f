import type { RequestSummary } from '../../src/core/telemetry/request-observer.js';

/** A chat request that closed well, as the meter summarizes it, with `fields` in place of the defaults. */
export function requestSummary(requestId: string, fields: Partial<RequestSummary> = {}): RequestSummary {
  const now = Date.now();
  return {
    requestId,
    projectId: 'prj_1',
    apiKeyId: 'key_1',
    endpoint: 'chat',
    modelId: 'gpt-4o-mini',
    route: undefined,
    status: 'ok',
    httpStatus: 200,
    errorCode: null,
    usage: { promptTokens: 12, completionTokens: 20, cachedTokens: 0, reasoningTokens: 0 },
    cost: 15_000_000n,
    reservedCost: 123_456_000n,
    reservation: 'lease',
    stream: false,
    test: false,
    receivedAt: now - 5,
    startedAt: now - 4,
    endedAt: now,
    admissionMs: 1,
    ttftMs: null,
    attempts: [],
    traceId: null,
    ...fields,
  };
}
