import type { Config } from '../config.js';

type TimeoutConfig = Pick<Config, 'REQUEST_TIMEOUT_SECONDS' | 'HEADERS_TIMEOUT_SECONDS' | 'KEEP_ALIVE_TIMEOUT_SECONDS'>;

/**
 * How long a client may take to send a request, for Fastify and the Node
 * server under it. Node's request and headers clocks run only while a
 * request is being received, so an answer or a stream that lasts minutes
 * (or waits minutes for its upstream) is not cut; the socket itself gets no
 * inactivity timeout for the same reason. The keep-alive clock runs only
 * between requests.
 */
export function serverTimeouts(config: TimeoutConfig) {
  const requestTimeout = Math.round(config.REQUEST_TIMEOUT_SECONDS * 1000);
  const headersTimeout = Math.round(config.HEADERS_TIMEOUT_SECONDS * 1000);
  return {
    requestTimeout,
    keepAliveTimeout: Math.round(config.KEEP_ALIVE_TIMEOUT_SECONDS * 1000),
    http: {
      requestTimeout,
      headersTimeout,
      // Node looks for late requests every 30 s by default, which would let a 10 s limit hold for 40.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(Math.min(headersTimeout, requestTimeout) / 4))),
    },
  };
}
