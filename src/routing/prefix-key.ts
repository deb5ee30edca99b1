/**
 * A route target (`+` and 1..15 digits) as one number (docs/performance.md §4): its digits read
 * after a leading 1, so `+0` is 10, `+00` is 100 and `+44` is 144. The leading 1 keeps prefixes
 * that differ only in leading zeros apart, and 16 digits stay below 2^53, so the key is exact.
 * A lookup computes the keys of all prefixes of a number in one pass, without making a string
 * per probe.
 */

/** Largest target length (`+` and 15 digits, ITU-T E.164 §6.1). */
export const MAX_TARGET_LENGTH = 16;

/** The key of an E.164 prefix target; -1 for anything else (`all`). */
export function prefixKey(target: string): number {
  if (target.length < 2 || target.length > MAX_TARGET_LENGTH || target.charCodeAt(0) !== 43 /* + */) return -1;
  let k = 1;
  for (let i = 1; i < target.length; i++) {
    const d = target.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    k = k * 10 + d;
  }
  return k;
}

/**
 * Fills keys[len] with the key of the number's first `len` characters, for every len from 2 up
 * to the returned length (0 when the number does not start with `+` and a digit). Stops at the
 * first character that is not a digit: no target can match past it.
 */
export function prefixKeysOf(number: string, keys: number[]): number {
  if (number.charCodeAt(0) !== 43 /* + */) return 0;
  const end = Math.min(number.length, MAX_TARGET_LENGTH);
  let k = 1;
  let len = 0;
  for (let i = 1; i < end; i++) {
    const d = number.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    k = k * 10 + d;
    len = i + 1;
    keys[len] = k;
  }
  return len;
}
