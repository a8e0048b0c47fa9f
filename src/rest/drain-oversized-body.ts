import type { IncomingMessage } from 'node:http';

/** How much of a refused body is read and thrown away, as a multiple of the body limit. */
export const DRAIN_LIMIT_FACTOR = 4;
/** How long a refused body may take to arrive before the connection is closed under it. */
export const DRAIN_MS = 5000;

/**
 * Reads and throws away what is left of a body refused as too large, so that
 * the client has finished sending when the 413 arrives. Clients that write
 * the whole body before they read (the OpenAI SDKs, through fetch) otherwise
 * see the socket close under them (EPIPE) and never the status. Reading
 * stops past `maxBytes` or after `maxMs`, and nothing read is kept; a body
 * declared larger than `maxBytes` is not read at all. Resolves true when the
 * body was read to its end, false when the connection must be closed.
 */
export function drainOversizedBody(raw: IncomingMessage, maxBytes: number, maxMs = DRAIN_MS): Promise<boolean> {
  if (raw.complete) return Promise.resolve(true);
  if (raw.destroyed || Number(raw.headers['content-length']) > maxBytes) return Promise.resolve(false);
  return new Promise((resolve) => {
    let read = 0;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onStop);
      raw.off('close', onStop);
      // Paused, the rest stays in the kernel's buffers; the socket is closed after the answer.
      if (!ended) raw.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onStop = () => finish(raw.complete);
    const timer = setTimeout(() => finish(false), maxMs);
    raw.on('data', onData);
    raw.once('end', onEnd);
    raw.once('error', onStop);
    raw.once('close', onStop);
    raw.resume();
  });
}
