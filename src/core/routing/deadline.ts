import type { ClientConnection } from '../request-context.js';
import { Cancellation } from '../../contract/cancel-signal.js';
import { ClientGoneError, DeadlineError } from './routing-errors.js';

export interface Deadline {
  /** Aborts when the client goes away or the deadline passes. */
  signal: Cancellation;
  timedOut(): boolean;
  /** Ends the request's upstream work early, for a reason of the gateway's own. */
  abort(reason: unknown): void;
  /** Stops the timer and stops listening to the client; call when the request ends. */
  clear(): void;
}

/**
 * The request's one Cancellation (see cancel-signal.ts for why not an
 * AbortController), fed by the client going away and a
 * timer that is cleared when the request ends. (AbortSignal.any and
 * AbortSignal.timeout would keep every request's signals and a 10-minute
 * timer alive long after it finished.)
 */
export function requestDeadline(client: ClientConnection, ms: number, requestTimeout: boolean): Deadline {
  const controller = new Cancellation();
  let timedOut = false;
  const stopListening = client.onGone(() => controller.abort(new ClientGoneError()));
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DeadlineError(requestTimeout));
  }, ms);
  return {
    signal: controller,
    timedOut: () => timedOut,
    abort: (reason) => controller.abort(reason),
    clear: () => {
      clearTimeout(timer);
      stopListening();
    },
  };
}
