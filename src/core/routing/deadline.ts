import { DeadlineError } from './to-gateway-error.js';

export interface Deadline {
  /** Aborts when the client goes away or the deadline passes. */
  signal: AbortSignal;
  timedOut(): boolean;
  /** Stops the timer and detaches from the client's signal; call when the request ends. */
  clear(): void;
}

/**
 * One AbortController per request, fed by the client's signal and a timer
 * that is cleared when the request ends. (AbortSignal.any and
 * AbortSignal.timeout would keep every request's signals and a 10-minute
 * timer alive long after it finished.)
 */
export function requestDeadline(clientSignal: AbortSignal, ms: number, requestTimeout: boolean): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const onClientAbort = () => controller.abort(clientSignal.reason);
  if (clientSignal.aborted) onClientAbort();
  else clientSignal.addEventListener('abort', onClientAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DeadlineError(requestTimeout));
  }, ms);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear: () => {
      clearTimeout(timer);
      clientSignal.removeEventListener('abort', onClientAbort);
    },
  };
}
