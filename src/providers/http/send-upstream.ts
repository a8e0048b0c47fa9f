import { postJson, type PostJsonOptions, type UpstreamResponse } from './post-json.js';
import { readErrorBody } from './read-body.js';
import { upstreamError, type UpstreamErrorDetails } from './upstream-error.js';

export interface SendUpstreamOptions extends PostJsonOptions {
  /** The upstream key, only to scrub it from error messages. */
  apiKey: string;
  /** The provider's reading of its own error body. */
  errorDetails: (body: unknown) => UpstreamErrorDetails;
}

/** POST upstream and resolve only on a 2xx; anything else is a classified ProviderError. */
export async function sendUpstream(url: string, options: SendUpstreamOptions): Promise<UpstreamResponse> {
  const res = await postJson(url, options);
  if (res.status >= 200 && res.status < 300) return res;
  const body = await readErrorBody(res.body);
  throw upstreamError({
    provider: options.provider,
    status: res.status,
    headers: res.headers,
    details: options.errorDetails(body),
    apiKey: options.apiKey,
  });
}
