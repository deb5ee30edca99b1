/**
 * Header name handling (RFC 3261 7.3.1, 7.3.3, 20): names compare case-insensitively and a
 * compact form names the same header as its long form.
 */

/** RFC 3261 7.3.3 plus the compact forms registered later (RFC 3265, 3515, 3841, 3892, 4028, 4474). */
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

const KEY_CACHE_LIMIT = 1024;
const keyCache = new Map<string, string>();

/**
 * Headers whose lines may carry several comma-separated values (RFC 3261 7.3.1). Only the ones the
 * edge needs to split are listed: splitting others (e.g. Allow) is harmless but unnecessary.
 */
const COMMA_LIST_HEADERS: ReadonlySet<string> = new Set(['via', 'route', 'record-route', 'contact']);

export function isCommaListHeader(name: string): boolean {
  return COMMA_LIST_HEADERS.has(canonicalHeaderKey(name));
}

/** RFC 3261 25.1 token characters, used for header names and methods. */
const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

export function isToken(s: string): boolean {
  return TOKEN_RE.test(s);
}

/**
 * Splits a header value on commas that are not inside a quoted string or <...> (RFC 3261 7.3.1).
 * Empty elements are dropped.
 */
export function splitTopLevelCommas(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === '<') depth++;
    else if (ch === '>') depth = Math.max(0, depth - 1);
    else if (ch === ',' && depth === 0) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}
