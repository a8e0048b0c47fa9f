import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** AES-256-GCM for upstream provider secrets at rest: base64(iv ‖ tag ‖ ciphertext). */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new RangeError('encryption key must be 32 bytes');
    this.#key = key;
  }

  static fromString(encoded: string): SecretBox {
    const key = /^[A-Fa-f0-9]{64}$/.test(encoded) ? Buffer.from(encoded, 'hex') : Buffer.from(encoded, 'base64');
    return new SecretBox(key);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /**
   * A stable identifier for `label` (HMAC-SHA256 under the key, base64url):
   * the same on every replica that shares the key, and it reveals nothing of it.
   */
  derive(label: string): string {
    return createHmac('sha256', this.#key).update(label).digest('base64url');
  }

  decrypt(sealed: string): string {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

/** Last 4 characters, the only part of a secret ever shown again. */
export const lastFour = (secret: string): string => secret.slice(-4);
