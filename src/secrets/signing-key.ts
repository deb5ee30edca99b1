/**
 * The token signing key when OUTDIAL_JWT_SECRET is empty (docs/api.md §2): generated once and
 * kept in the database, sealed (secret-box.ts), so tokens survive restarts and the database
 * alone cannot forge them. A database written before encryption holds the key in clear under
 * `jwt_secret`; the first start of this version seals it, removes the clear copy from the
 * database's files, and keeps using the same key (tokens issued before stay valid).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.ts';
import type { SettingsStore } from '../store/store-types.ts';
import type { SecretBox } from './secret-box.ts';

export const SEALED_SIGNING_KEY = 'jwt_secret_sealed';
/** Where versions before encryption kept the key in clear. */
export const CLEAR_SIGNING_KEY = 'jwt_secret';

export async function storedSigningKey(settings: SettingsStore, box: SecretBox, logger: Logger): Promise<string> {
  const clear = await settings.get(CLEAR_SIGNING_KEY);
  const sealed = await settings.get(SEALED_SIGNING_KEY);
  if (sealed !== undefined) {
    // A start that sealed the clear key but stopped before removing it leaves both.
    if (clear !== undefined) await settings.remove(CLEAR_SIGNING_KEY);
    return box.open(sealed, 'jwt_secret');
  }
  const key = clear ?? randomBytes(32).toString('base64url');
  const stored = await settings.putIfAbsent(SEALED_SIGNING_KEY, box.seal(key, 'jwt_secret'));
  if (clear !== undefined) {
    await settings.remove(CLEAR_SIGNING_KEY);
    logger.info('token signing key sealed');
  }
  // Another process may have stored its key first: that one is the key.
  return box.open(stored, 'jwt_secret');
}
