import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSealed, keyIdOf, SecretBox, SecretOpenError } from './secret-box.ts';
import { decodeSecretKey } from './secret-key.ts';

describe('SecretBox (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('seals to text that names its format and key, and opens back', () => {
    const sealed = box.seal('Circle of Life: ü 😀', 'auth_password');
    expect(sealed).toMatch(new RegExp(`^sb1\\.${box.keyId}\\.[A-Za-z0-9_-]+$`));
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('Circle');
    expect(box.open(sealed, 'auth_password')).toBe('Circle of Life: ü 😀');
    expect(new SecretBox(Buffer.from(key)).open(sealed, 'auth_password')).toBe('Circle of Life: ü 😀');
  });

  it('a fresh nonce each time: the same secret never seals to the same text', () => {
    expect(box.seal('x', 'auth_password')).not.toBe(box.seal('x', 'auth_password'));
  });

  it('refuses another key, another purpose, damaged or truncated text, and never shows the secret', () => {
    const sealed = box.seal('hunter2-secret', 'auth_password');
    const other = new SecretBox(randomBytes(32));
    expect(() => other.open(sealed, 'auth_password')).toThrow(SecretOpenError);
    expect(() => other.open(sealed, 'auth_password')).toThrow(/sealed with another key \(key id [0-9a-f]{16}, this key is [0-9a-f]{16}\)/);
    expect(() => box.open(sealed, 'jwt_secret')).toThrow(/does not authenticate/);
    const raw = Buffer.from(sealed.split('.')[2]!, 'base64url');
    raw[20] = raw[20]! ^ 1;
    expect(() => box.open(`sb1.${box.keyId}.${raw.toString('base64url')}`, 'auth_password')).toThrow(/does not authenticate/);
    expect(() => box.open(`sb1.${box.keyId}.AAAA`, 'auth_password')).toThrow(/truncated/);
    expect(() => box.open('hunter2-secret', 'auth_password')).toThrow(/not sealed text/);
    for (const bad of [() => other.open(sealed, 'auth_password'), () => box.open(sealed, 'jwt_secret')]) {
      try {
        bad();
      } catch (err) {
        expect(String(err)).not.toContain('hunter2');
      }
    }
  });

  it('a key is 32 bytes; its id is stable and does not reveal it', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(RangeError);
    expect(keyIdOf(key)).toBe(box.keyId);
    expect(box.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(key.toString('hex')).not.toContain(box.keyId);
  });
});

describe('decodeSecretKey', () => {
  const key = randomBytes(32);
  it.each([
    ['64 hex digits', key.toString('hex')],
    ['upper-case hex with a line break', `${key.toString('hex').toUpperCase()}\n`],
    ['base64', key.toString('base64')],
    ['base64url', key.toString('base64url')],
  ])('reads %s', (_what, text) => {
    expect(decodeSecretKey(text)?.equals(key)).toBe(true);
  });
  it.each([['empty', ''], ['too short', 'abcd'], ['63 hex digits', key.toString('hex').slice(1)], ['24 bytes of base64', randomBytes(24).toString('base64')], ['a passphrase', 'correct horse battery staple, really']])(
    'refuses %s',
    (_what, text) => {
      expect(decodeSecretKey(text)).toBeUndefined();
    },
  );
});
