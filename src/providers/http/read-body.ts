import { ProviderError } from '../../contract/provider.js';
import type { UpstreamBody } from './post-json.js';
import { transportError } from './transport-error.js';
import type { CancelSignal } from '../../contract/cancel-signal.js';

const MAX_ERROR_BODY = 64 * 1024;

/** The whole body as text; a broken socket mid-body is retryable. */
export async function readBodyText(body: UpstreamBody, provider: string, signal: CancelSignal): Promise<string> {
  try {
    return await body.text();
  } catch (err) {
    throw transportError(err, provider, signal);
  }
}

/** A successful response's body as JSON, or a bad_response ProviderError. */
export async function readJsonBody(body: UpstreamBody, provider: string, signal: CancelSignal): Promise<unknown> {
  const text = await readBodyText(body, provider, signal);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderError(`${provider} returned a body that is not JSON`, 'bad_response', 200);
  }
}

/**
 * An error response's body, parsed as JSON when it is JSON. Bounded and
 * never throwing: the status alone is enough to classify the failure.
 */
export async function readErrorBody(body: UpstreamBody): Promise<unknown> {
  let text = '';
  try {
    for await (const piece of body) {
      text += typeof piece === 'string' ? piece : Buffer.from(piece as Uint8Array).toString('utf8');
      if (text.length > MAX_ERROR_BODY) break;
    }
  } catch {
    // A body cut short says nothing more than the status does.
  } finally {
    body.destroy();
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
