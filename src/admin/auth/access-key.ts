import { createHash, randomBytes } from 'node:crypto';

/**
 * Access keys: 256 random bits behind a fixed prefix (so secret scanners and people recognise
 * one), stored only as a SHA-256 hash. A fast hash is enough here, unlike for passwords: the
 * key is random, so there is nothing to guess from a list.
 */
export const ACCESS_KEY_PREFIX = 'od_';
const PREFIX_SHOWN = ACCESS_KEY_PREFIX.length + 8;

export function generateAccessKey(): { key: string; hash: string; prefix: string } {
  const key = `${ACCESS_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashAccessKey(key), prefix: key.slice(0, PREFIX_SHOWN) };
}

export function hashAccessKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
