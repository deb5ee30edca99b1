/**
 * A copy of a string that is neither a slice of a larger one nor a concatenation of such pieces
 * (short strings are never slices). Decoded from its own bytes, it is one flat string: slicing a
 * flattened concatenation (`(' ' + s).slice(1)`) would give a slice again, of a parent one
 * character longer, 32 bytes more per string. (A lone surrogate, which no parsed message holds,
 * would become U+FFFD, as it does anyway once the string is written to the wire as UTF-8.)
 */
export function ownString(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
