import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretBox } from './secret-box.js';

/**
 * ENCRYPTION_KEY when set; on the embedded default a key generated once into
 * the data folder (mode 0600), so upstream secrets survive restarts; for an
 * in-memory database a throwaway key.
 */
export function loadEncryptionKey(configured: string | undefined, dataDir: string): { box: SecretBox; created: boolean } {
  if (configured) return { box: SecretBox.fromString(configured), created: false };
  if (dataDir.startsWith('memory://')) return { box: new SecretBox(randomBytes(32)), created: true };
  const file = join(dataDir, 'encryption.key');
  if (existsSync(file)) return { box: SecretBox.fromString(readFileSync(file, 'utf8').trim()), created: false };
  const key = randomBytes(32).toString('hex');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { box: SecretBox.fromString(key), created: true };
}
