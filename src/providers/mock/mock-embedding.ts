import { createHash } from 'node:crypto';

/**
 * A deterministic unit vector for (model, text): SHA-256 in counter mode as
 * the source of uniform values, then L2-normalised. Same input, same vector.
 */
export function mockEmbedding(model: string, text: string, dimensions: number): number[] {
  const values = new Array<number>(dimensions);
  let block = Buffer.alloc(0);
  for (let i = 0, counter = 0; i < dimensions; i++) {
    const offset = (i % 8) * 4;
    if (offset === 0) {
      block = createHash('sha256').update(model).update('\0').update(text).update(String(counter++)).digest();
    }
    values[i] = block.readUInt32LE(offset) / 0x7fffffff - 1;
  }
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0)) || 1;
  return values.map((v) => v / norm);
}
