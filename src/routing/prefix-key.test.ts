import { describe, expect, it } from 'vitest';
import { MAX_TARGET_LENGTH, prefixKey, prefixKeysOf } from './prefix-key.ts';

describe('prefixKey', () => {
  it('reads the digits after a leading 1, so leading zeros stay apart', () => {
    expect(prefixKey('+0')).toBe(10);
    expect(prefixKey('+00')).toBe(100);
    expect(prefixKey('+000')).toBe(1000);
    expect(prefixKey('+1')).toBe(11);
    expect(prefixKey('+44')).toBe(144);
    expect(prefixKey('+4420')).toBe(14420);
    const keys = ['+0', '+00', '+01', '+1', '+10', '+100', '+001', '+010'].map(prefixKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('is exact for 15 digits (beyond 2^32 and the small-integer range)', () => {
    expect(prefixKey('+999999999999999')).toBe(1_999_999_999_999_999);
    expect(prefixKey('+000000000000000')).toBe(1_000_000_000_000_000);
    expect(prefixKey('+999999999999998')).not.toBe(prefixKey('+999999999999999'));
    expect(Number.isSafeInteger(prefixKey('+999999999999999'))).toBe(true);
  });

  it('gives -1 for what is not a prefix target', () => {
    for (const t of ['all', '', '+', '1555', '+1a', '+1 5', '+1234567890123456', '-1']) expect(prefixKey(t)).toBe(-1);
  });
});

describe('prefixKeysOf', () => {
  it('fills the key of every prefix of the number, as prefixKey of that slice', () => {
    const keys: number[] = new Array<number>(MAX_TARGET_LENGTH + 1).fill(0);
    const number = '+0044207123456';
    expect(prefixKeysOf(number, keys)).toBe(number.length);
    for (let len = 2; len <= number.length; len++) expect(keys[len]).toBe(prefixKey(number.slice(0, len)));
  });

  it('stops at the first non-digit and at 15 digits; a number without + has none', () => {
    const keys: number[] = new Array<number>(MAX_TARGET_LENGTH + 1).fill(0);
    expect(prefixKeysOf('+155x5', keys)).toBe(4);
    expect(keys[4]).toBe(prefixKey('+155'));
    expect(prefixKeysOf('+12345678901234567890', keys)).toBe(MAX_TARGET_LENGTH);
    expect(keys[MAX_TARGET_LENGTH]).toBe(prefixKey('+123456789012345'));
    expect(prefixKeysOf('15551234567', keys)).toBe(0);
    expect(prefixKeysOf('+', keys)).toBe(0);
    expect(prefixKeysOf('', keys)).toBe(0);
  });
});
