import { expect } from 'vitest';
import type { z } from 'zod';
import type { StreamTranslator } from '../../../src/providers/http/stream-translator.js';
import { ProviderError } from '../../../src/contract/provider.js';

/** The JSON frames of a recorded stream (its `data: {...}` lines). */
export const recordedFrames = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((line) => line.startsWith('data: {'))
    .map((line) => JSON.parse(line.slice(6)) as unknown);

/**
 * Holds a stream-frame guard to the zod schemas it stands in for: every frame
 * it lets through is the frame itself, every schema accepts it, and the
 * translator makes the same of it as of the last schema's output (which drops
 * unnamed fields, so the translator must not have used them). Returns how
 * many frames went through the guard.
 */
export function expectGuardAgrees(guard: (json: unknown) => unknown, schemas: z.ZodType[], translate: (json: unknown) => unknown, frames: unknown[]): number {
  let through = 0;
  for (const json of frames) {
    const plain = guard(json);
    if (plain === undefined) continue;
    through++;
    expect(plain).toBe(json);
    let parsed: unknown;
    for (const schema of schemas) {
      const result = schema.safeParse(json);
      expect(result.success, JSON.stringify(json)).toBe(true);
      parsed = result.data;
    }
    expect(translate(json), JSON.stringify(json)).toEqual(translate(parsed));
  }
  return through;
}

/** What a translator makes of one frame and of the stream ending right after it, or the class of error it throws. */
export function translateFrame(translator: StreamTranslator, json: unknown): { chunks: unknown; end: unknown } | { error: string } {
  try {
    const chunks = translator.push({ data: JSON.stringify(json), event: undefined, id: undefined });
    let end: unknown;
    try {
      end = translator.end();
    } catch {
      end = 'unfinished';
    }
    return { chunks, end };
  } catch (e) {
    return { error: e instanceof ProviderError ? e.errorClass : String(e) };
  }
}
