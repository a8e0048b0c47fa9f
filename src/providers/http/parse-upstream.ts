import type { z } from 'zod';
import { ProviderError } from '../../contract/provider.js';

/** A 2xx body checked against the provider's schema; a mismatch is a bad_response. */
export function parseUpstream<T extends z.ZodType>(schema: T, body: unknown, provider: string): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'body';
    throw new ProviderError(`${provider} returned an unexpected response (at ${where})`, 'bad_response', 200);
  }
  return parsed.data;
}
