// A token-count worker thread (count-pool.ts starts it): counts texts off the
// gateway's event loop, one job at a time.
import { parentPort } from 'node:worker_threads';
import { countTokens } from './o200k.js';

/**
 * The texts travel as UTF-16 bytes in transferred buffers: a structured clone
 * of a 4 MB string held the sending event loop for ~100 ms, a transfer is free,
 * and UTF-16 keeps every string as it was (lone surrogates included).
 */
export interface CountJob {
  id: number;
  texts: Uint8Array[];
}

export type CountResult = { id: number; counts: number[] } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('count-worker.ts runs as a worker thread (see count-pool.ts)');
port.on('message', ({ id, texts }: CountJob) => {
  let result: CountResult;
  try {
    result = { id, counts: texts.map((bytes) => (bytes.length === 0 ? 0 : countTokens(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf16le')))) };
  } catch (e) {
    result = { id, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(result);
});
