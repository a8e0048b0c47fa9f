import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UTF8_SLICE_CHARS, utf8Slices } from '../../../src/providers/http/utf8-slices.js';

async function collect(text: string): Promise<Buffer[]> {
  const slices: Buffer[] = [];
  for await (const slice of utf8Slices(text)) slices.push(slice);
  return slices;
}

describe('utf8Slices', () => {
  it('sends a long text as its UTF-8 bytes, a slice at a time, never splitting a surrogate pair', async () => {
    // An emoji (two UTF-16 units) straddles the first slice boundary.
    const text = `${'a'.repeat(UTF8_SLICE_CHARS - 1)}😀${'é世'.repeat(UTF8_SLICE_CHARS / 2)}`;
    const slices = await collect(text);
    expect(slices.length).toBeGreaterThan(2);
    expect(slices[0]!.length).toBe(UTF8_SLICE_CHARS - 1);
    expect(Buffer.concat(slices).equals(Buffer.from(text))).toBe(true);
    expect(Buffer.concat(slices).length).toBe(Buffer.byteLength(text));
  });

  it('gives the same bytes as Buffer.from for any text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 64 }), fc.integer({ min: 0, max: 3 }), async (piece, copies) => {
        const text = piece.repeat(copies * Math.ceil(UTF8_SLICE_CHARS / Math.max(piece.length, 1)) + 1);
        expect(Buffer.concat(await collect(text)).equals(Buffer.from(text))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
