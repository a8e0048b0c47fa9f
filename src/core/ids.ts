import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base62 from a CSPRNG, rejection-sampled so every character is uniform. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Prefixed ids keep rows recognisable in logs: `prj_…`, `key_…`, `req_…`. */
export const newId = (prefix: string, length = 20): string => `${prefix}_${randomBase62(length)}`;
