import type { Emulator } from '../../emulators/index.js';
import type { CallContext } from '../../../src/contract/provider.js';
import type { ChatCompletionChunk } from '../../../src/contract/openai-shapes.js';

export function contextFor(
  emu: Pick<Emulator, 'url'>,
  provider: string,
  upstreamModel: string,
  signal: AbortSignal = new AbortController().signal,
  apiKey = 'test-upstream-key',
): CallContext {
  return {
    target: { keyId: 'upk_test', provider, baseUrl: emu.url, apiKey, upstreamModel },
    signal,
    requestId: 'req_test',
  };
}

/** Drain an async iterable, keeping what arrived before it ended or threw. */
export async function drain(batches: AsyncIterable<ChatCompletionChunk[]>): Promise<{ chunks: ChatCompletionChunk[]; error: unknown }> {
  const out: ChatCompletionChunk[] = [];
  try {
    for await (const batch of batches) out.push(...batch);
    return { chunks: out, error: undefined };
  } catch (error) {
    return { chunks: out, error };
  }
}

/** The rejection of a promise that must fail. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
