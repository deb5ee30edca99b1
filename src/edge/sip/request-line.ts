/**
 * The Request-Line (RFC 3261 7.1, 25.1): `Method SP Request-URI SP SIP-Version`, one SP each,
 * nothing after the version. What the edge answers for each kind of fault is in
 * docs/edge-transport.md §5 (RFC 4475 3.1.2.7-3.1.2.11 and 3.1.2.16 are the test cases).
 */
import { isToken } from './header-names.ts';
import { parseUri } from './uri.ts';

export type RequestLineVerdict =
  | { ok: true; method: string; uri: string }
  | { ok: false; method: string; uri: string; reason: string; status: 400 | 505 };

/** RFC 3261 25.1 absoluteURI: scheme ":" then no LWS, brackets or quotes. */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+\-.]*:[^\s<>"{}|\\^`]+$/;
const SIP_VERSION = /^SIP\/(\d+)\.(\d+)$/i;

/**
 * undefined: not a SIP request line at all (no method token, or no `SIP/x.y` at the end), so
 * there is nobody to answer. Otherwise the method and URI, and the fault if there is one.
 */
export function checkRequestLine(line: string): RequestLineVerdict | undefined {
  const parts = line.split(' ');
  const method = parts[0] ?? '';
  const version = parts[parts.length - 1] ?? '';
  if (!isToken(method)) return undefined;
  // RFC 4475 3.1.2.10: trailing SP leaves an empty last part; the version is the last non-empty one.
  const lastWord = [...parts].reverse().find((p) => p !== '') ?? '';
  if (!SIP_VERSION.test(lastWord) || parts.length < 3) return undefined;
  const uri = parts.length === 3 ? (parts[1] ?? '') : parts.slice(1, -1).join(' ').trim();
  const fault = (reason: string, status: 400 | 505 = 400): RequestLineVerdict => ({ ok: false, method, uri, reason, status });
  // RFC 3261 8.2.6 / 21.5.20 (RFC 4475 3.1.2.16): another version is answered 505, in SIP/2.0.
  if (!/^SIP\/2\.0$/i.test(lastWord)) return fault('unsupported SIP version', 505);
  // RFC 4475 3.1.2.8-3.1.2.10: LWS inside the URI, several SP between elements, SP at the end.
  if (parts.length !== 3 || version !== lastWord) return fault('bad Request-Line spacing');
  // RFC 4475 3.1.2.7: a Request-URI in <> is not an absoluteURI.
  if (!ABSOLUTE_URI.test(uri)) return fault('bad Request-URI');
  const scheme = uri.slice(0, uri.indexOf(':')).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') {
    const u = parseUri(uri);
    if (!u) return fault('bad Request-URI');
    // RFC 3261 19.1.1 Table 1: headers are not allowed in a Request-URI (RFC 4475 3.1.2.11).
    if (u.headers !== undefined) return fault('headers in Request-URI');
  }
  return { ok: true, method, uri };
}
