import type { AuthenticatedKey } from './keys/key-store.js';

/** What a front door knows about one request when it hands it to the core. */
export interface RequestContext {
  requestId: string;
  key: AuthenticatedKey;
  /** Aborts when the client goes away. */
  clientSignal: AbortSignal;
  /** Lower-cased request headers an adapter may honour (test-mode fault triggers). */
  hints?: Record<string, string | undefined>;
}
