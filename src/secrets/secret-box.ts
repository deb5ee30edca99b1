/**
 * Secrets at rest (docs/api.md §20): carrier passwords and the token signing key are sealed with
 * AES-256-GCM under a key kept outside the database (OUTDIAL_SECRET_KEY or the key file,
 * secret-key.ts) before any store sees them. Stores keep the sealed text as an opaque string, so
 * every store implementation (SQLite, PostgreSQL) inherits the encryption without crypto of its
 * own, and a copy of the database alone gives nothing away.
 *
 * Sealed text: `sb1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`.
 * - `sb1`: the format version, so a later format (or key rotation) can tell old text apart.
 * - key id: the first 8 bytes of HMAC-SHA256(key, "outdial secret key id"), hex; names the key
 *   without revealing it, so a wrong key is reported as such rather than as corrupt data.
 * - a fresh 96-bit random nonce per seal (NIST SP 800-38D §8.2.2: random nonces are safe far
 *   beyond the number of secrets outdial will ever seal under one key), a 128-bit tag.
 * - the purpose (`auth_password`, `jwt_secret`) is authenticated as additional data: text sealed
 *   for one purpose does not open as another.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'sb1';
const KEY_ID_LABEL = 'outdial secret key id';

/** What a secret is sealed for; part of the authenticated data. */
export type SecretPurpose = 'auth_password' | 'jwt_secret';

/** Sealed text that does not open: wrong key, wrong purpose, or damaged. Never carries the secret. */
export class SecretOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretOpenError';
  }
}

/** The key id of a key (see the module comment). */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update(KEY_ID_LABEL).digest().subarray(0, 8).toString('hex');
}

/** Whether a string has the shape of sealed text (a clear value from before encryption does not). */
export function isSealed(text: string): boolean {
  return text.startsWith(`${FORMAT}.`);
}

export class SecretBox {
  readonly keyId: string;
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== SECRET_KEY_BYTES) throw new RangeError(`a secret key is ${SECRET_KEY_BYTES} bytes, got ${key.length}`);
    this.key = Buffer.from(key);
    this.keyId = keyIdOf(this.key);
  }

  seal(plain: string, purpose: SecretPurpose): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${FORMAT}.${this.keyId}.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  open(sealed: string, purpose: SecretPurpose): string {
    const parts = sealed.split('.');
    if (parts.length !== 3 || parts[0] !== FORMAT) throw new SecretOpenError('not sealed text');
    const keyId = parts[1]!;
    if (keyId.length !== this.keyId.length || !timingSafeEqual(Buffer.from(keyId), Buffer.from(this.keyId))) {
      throw new SecretOpenError(`sealed with another key (key id ${keyId}, this key is ${this.keyId})`);
    }
    const raw = Buffer.from(parts[2]!, 'base64url');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new SecretOpenError('sealed text is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(purpose, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretOpenError(`sealed text does not authenticate (damaged, or sealed for another purpose than ${purpose})`);
    }
  }
}
