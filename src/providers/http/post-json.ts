import type { IncomingHttpHeaders } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { Dispatcher } from 'undici';
import { transportError } from './transport-error.js';
import { upstreamAgent } from './upstream-agent.js';
import { UTF8_SLICE_CHARS, utf8Stream } from './utf8-slices.js';
import type { CancelSignal } from '../../contract/cancel-signal.js';
import type { UpstreamTransport } from '../../contract/provider.js';

export type UpstreamBody = Dispatcher.ResponseData['body'];

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
  signal: CancelSignal;
  /** Header to ask for (`application/json` or `text/event-stream`). */
  accept?: string;
  /** The gateway's pool and hop mark; without it, the shared pool. */
  transport?: UpstreamTransport | undefined;
}

/**
 * POST a JSON body upstream on the shared keep-alive pool. Resolves once the
 * status and headers are in, whatever the status; the body is the caller's
 * to read or destroy. Transport failures become retryable ProviderErrors,
 * and aborting `signal` tears the socket down at once.
 */
export async function postJson(url: string, options: PostJsonOptions): Promise<UpstreamResponse> {
  try {
    const { origin, path } = originAndPath(url);
    const json = JSON.stringify(options.body);
    const sliced = json.length > UTF8_SLICE_CHARS;
    // Counting a long text's bytes first copies what JSON.stringify built in pieces into one string: on a turn of its own.
    if (sliced) await nextTurn();
    const res = await (options.transport?.agent ?? upstreamAgent).request({
      origin,
      path,
      method: 'POST',
      signal: options.signal,
      headers: {
        'content-type': 'application/json',
        accept: options.accept ?? 'application/json',
        ...options.headers,
        ...options.transport?.headers,
        ...(sliced ? { 'content-length': String(Buffer.byteLength(json)) } : undefined),
      },
      body: sliced ? utf8Stream(json) : json,
    });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  } catch (err) {
    throw transportError(err, options.provider, options.signal);
  }
}

// A handful of upstream URLs serve every request: each is parsed once, not per call.
const parsedUrls = new LRUCache<string, { origin: string; path: string }>({ max: 1024 });

function originAndPath(url: string): { origin: string; path: string } {
  let parsed = parsedUrls.get(url);
  if (!parsed) {
    const u = new URL(url);
    parsed = { origin: u.origin, path: `${u.pathname}${u.search}` };
    parsedUrls.set(url, parsed);
  }
  return parsed;
}
