/**
 * OpenAI's `encoding_format: "base64"`: the vector as little-endian float32
 * bytes, base64-encoded. Upstreams are asked for floats; the door and the
 * adapters encode with this one function.
 */
export function embeddingToBase64(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) buffer.writeFloatLE(values[i]!, i * 4);
  return buffer.toString('base64');
}
