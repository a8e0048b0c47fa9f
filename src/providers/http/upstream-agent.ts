import { Agent } from 'undici';

// One connection pool for every upstream call: keep-alive sockets are reused
// across requests to the same origin, which matters for TLS-heavy providers.
export const upstreamAgent = new Agent({
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  // The caller's AbortSignal carries the request deadline; these only catch a
  // silent upstream that never times the call out itself.
  headersTimeout: 300_000,
  bodyTimeout: 300_000,
});
