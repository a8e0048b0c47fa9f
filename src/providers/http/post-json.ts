import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';
import { transportError } from './transport-error.js';
import { upstreamAgent } from './upstream-agent.js';

export type UpstreamBody = Awaited<ReturnType<typeof request>>['body'];

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: UpstreamBody;
}

export interface PostJsonOptions {
  /** Provider name for error messages. */
  provider: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal;
  /** Header to ask for (`application/json` or `text/event-stream`). */
  accept?: string;
}

/**
 * POST a JSON body upstream on the shared keep-alive pool. Resolves once the
 * status and headers are in, whatever the status; the body is the caller's
 * to read or destroy. Transport failures become retryable ProviderErrors,
 * and aborting `signal` tears the socket down at once.
 */
export async function postJson(url: string, options: PostJsonOptions): Promise<UpstreamResponse> {
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: upstreamAgent,
      signal: options.signal,
      headers: {
        'content-type': 'application/json',
        accept: options.accept ?? 'application/json',
        ...options.headers,
      },
      body: JSON.stringify(options.body),
    });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  } catch (err) {
    throw transportError(err, options.provider, options.signal);
  }
}
