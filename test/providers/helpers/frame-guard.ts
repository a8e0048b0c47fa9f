import { expect } from 'vitest';
import type { z } from 'zod';

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
