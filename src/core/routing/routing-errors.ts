import type { ProviderError } from '../../contract/provider.js';

// The ways a routed request ends that are not an upstream's own answer. A
// leaf module: the deadline, the dispatcher and the error mapping all name
// them, and none of those may import another in a loop.

export class DeadlineError extends Error {
  constructor(readonly requestTimeout: boolean) {
    super('deadline passed');
  }
}

/** The client went away mid-request: its own doing, not the gateway's failure. */
export class ClientGoneError extends Error {
  constructor() {
    super('client closed the connection');
  }
}

/** Every route and key of a model was tried (or none could be), within the attempt limit and the deadline. */
export class NoUpstreamError extends Error {
  constructor(
    message: string,
    readonly lastError: ProviderError | undefined,
    readonly attempts: number,
  ) {
    super(message);
  }
}
