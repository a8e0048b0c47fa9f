/**
 * OpenAI's `encoding_format: "base64"`: the vector as little-endian float32
 * bytes, base64-encoded. Upstreams are asked for floats; this is done here.
 */
export function embeddingToBase64(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => buffer.writeFloatLE(value, i * 4));
  return buffer.toString('base64');
}
