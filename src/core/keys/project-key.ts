import { hash } from 'node:crypto';
import { newId, randomBase62 } from '../../contract/ids.js';

export type KeyMode = 'live' | 'test';

const SECRET_LENGTH = 40; // base62 × 40 ≈ 238 bits of entropy
const PROJECT_KEY = /^pk_(live|test)_[0-9A-Za-z]{20,128}$/;

export interface NewProjectKey {
  id: string;
  secret: string;
  keyHash: string;
  prefix: string;
  last4: string;
  mode: KeyMode;
}

// Every request hashes its key: the one-shot hash skips building a Hash object.
export const hashSecret = (secret: string): string => hash('sha256', secret, 'hex');

export function generateProjectKey(mode: KeyMode): NewProjectKey {
  const random = randomBase62(SECRET_LENGTH);
  const secret = `pk_${mode}_${random}`;
  return {
    id: newId('key', 16),
    secret,
    keyHash: hashSecret(secret),
    prefix: `pk_${mode}_${random.slice(0, 4)}`,
    last4: random.slice(-4),
    mode,
  };
}

/** The mode a well-formed project key claims, or null when it is not one. */
export function projectKeyMode(secret: string): KeyMode | null {
  const m = PROJECT_KEY.exec(secret);
  return m ? (m[1] as KeyMode) : null;
}
