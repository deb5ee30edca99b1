/**
 * SIP header names (RFC 3261 §7.3.1, §7.3.3, §20): names compare case-insensitively and a compact
 * form names the same header as its long form. A leaf module with no dependencies, shared by the
 * embedded edge and the routing core so that neither imports the other.
 */

/** RFC 3261 §7.3.3 plus the compact forms registered later (RFC 3265, 3515, 3841, 3892, 4028, 4474). */
const COMPACT_FORMS: ReadonlyMap<string, string> = new Map(Object.entries({
  i: 'call-id',
  f: 'from',
  t: 'to',
  v: 'via',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  r: 'refer-to',
  u: 'allow-events',
  b: 'referred-by',
  x: 'session-expires',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  y: 'identity',
  n: 'identity-info',
}));

const KEY_CACHE_LIMIT = 1024;
const keyCache = new Map<string, string>();

/** Lower-case long form of a header name, expanding compact forms. */
export function canonicalHeaderKey(name: string): string {
  // Every header lookup canonicalizes each name it passes, so the few names SIP traffic uses are
  // remembered; the bound keeps hostile traffic with endless new names from growing it.
  let key = keyCache.get(name);
  if (key !== undefined) return key;
  const lower = name.trim().toLowerCase();
  key = COMPACT_FORMS.get(lower) ?? lower;
  if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(name, key);
  return key;
}

/**
 * Whether a header line's `name` names the header whose canonical key is `key` (as
 * canonicalHeaderKey gives it). Lookups walk every line of a message, so a name that cannot
 * match is refused by its length alone: only a name as long as the key, a one-letter (compact)
 * name, or one with white space around it can canonicalize to the key.
 */
export function namesHeader(name: string, key: string): boolean {
  const n = name.length;
  if (n !== key.length && n !== 1 && !(n > 0 && (mayTrim(name.charCodeAt(0)) || mayTrim(name.charCodeAt(n - 1))))) return false;
  return canonicalHeaderKey(name) === key;
}

/** Might String#trim remove this character (a superset: the exact check follows)? */
function mayTrim(c: number): boolean {
  return c <= 0x20 || c >= 0xa0;
}
