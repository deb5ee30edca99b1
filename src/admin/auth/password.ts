import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt (RFC 7914) with N=2^14, r=8, p=1: ~16 MiB and tens of milliseconds per check. */
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url), so the parameters can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltText, keyText] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(keyText, 'base64url');
  const key = await scrypt(password, Buffer.from(saltText, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * 1024 * 1024,
  });
  return timingSafeEqual(key, expected);
}

/** A random password for the first-start admin when none is configured. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** One scrypt hash to check unknown user names against, made once. */
let decoyHash: Promise<string> | undefined;

/**
 * Verifies a password against an agent's hash, or against a decoy when there is no agent, so an
 * unknown user name costs the same scrypt work as a wrong password and response time does not
 * reveal which user names exist.
 */
export async function passwordMatches(password: string, storedHash: string | undefined): Promise<boolean> {
  decoyHash ??= hashPassword('decoy password');
  const ok = await verifyPassword(password, storedHash ?? (await decoyHash));
  return storedHash !== undefined && ok;
}
