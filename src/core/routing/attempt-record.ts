import type { ProviderError } from '../../contract/provider.js';

// One upstream attempt as the dispatcher saw it: what the request explorer
// shows, the metrics count and the traces draw.

/** How one upstream attempt ended. */
export type AttemptOutcome = 'ok' | 'rate_limited' | 'server_error' | 'timeout' | 'connect_error' | 'auth' | 'client_error' | 'bad_response' | 'cancelled';

export interface AttemptRecord {
  /** 1-based, in the order tried. */
  attempt: number;
  modelId: string;
  provider: string;
  upstreamModel: string;
  /** null for the test-mode mock. */
  upstreamKeyId: string | null;
  outcome: AttemptOutcome;
  upstreamStatus: number | null;
  /** The provider error's message (already free of secrets: see providers/http/safe-upstream-message.ts). */
  error: string | null;
  /** Epoch milliseconds. */
  startedAt: number;
  /** Until the upstream answered (JSON) or its first chunk arrived (stream). */
  durationMs: number;
}

/** Classifies a failed attempt for the explorer and the metrics. */
export function attemptOutcome(error: ProviderError, cancelled: boolean): AttemptOutcome {
  if (cancelled) return 'cancelled';
  const status = error.upstreamStatus;
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403 || error.errorClass === 'key_fatal') return 'auth';
  if (status !== undefined && status >= 500) return 'server_error';
  if (status === 408 || /timed? ?out|timeout/i.test(error.message)) return 'timeout';
  if (error.errorClass === 'bad_response') return 'bad_response';
  if (error.errorClass === 'client') return 'client_error';
  return status === undefined ? 'connect_error' : 'server_error';
}
