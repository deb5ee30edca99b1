/**
 * Header name handling for the edge (RFC 3261 7.3.1, 7.3.3, 20). Canonical names come from the
 * shared leaf module src/sip/header-names.ts; list headers and comma splitting live here.
 */

import { canonicalHeaderKey, namesHeader } from '../../sip/header-names.ts';

export { canonicalHeaderKey, namesHeader };

/**
 * Headers whose lines may carry several comma-separated values (RFC 3261 7.3.1). Only the ones the
 * edge needs to split are listed: splitting others (e.g. Allow) is harmless but unnecessary.
 */
const COMMA_LIST_HEADERS: ReadonlySet<string> = new Set(['via', 'route', 'record-route', 'contact']);

export function isCommaListHeader(name: string): boolean {
  return COMMA_LIST_HEADERS.has(canonicalHeaderKey(name));
}

/** RFC 3261 25.1 token characters (alphanum and -.!%*_+`'~), used for header names and methods. */
const TOKEN_CHARS: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~") t[c.charCodeAt(0)] = 1;
  return t;
})();

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

/**
 * Splits a header value on commas that are not inside a quoted string or <...> (RFC 3261 7.3.1).
 * Empty elements are dropped.
 */
export function splitTopLevelCommas(value: string): string[] {
  // most values hold one element: no comma, nothing to split (the value is already trimmed
  // when it came from a parsed line; trim() returns it as it is then)
  if (!value.includes(',')) {
    const one = value.trim();
    return one.length > 0 ? [one] : [];
  }
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
