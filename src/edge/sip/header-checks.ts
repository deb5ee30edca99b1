/**
 * Grammar checks of the headers the edge and its applications rely on (RFC 3261 20, 25.1), run by
 * the parser after the mandatory-header checks. Each returns the first problem as a short reason,
 * or undefined. docs/edge-transport.md §5 lists what is checked and why.
 */
import { canonicalHeaderKey, isToken } from './header-names.ts';
import { isVia } from './header-values.ts';
import type { SipMessage, SipRequest } from './message.ts';
import { splitOutsideQuotes } from './params.ts';

/**
 * Headers that carry exactly one value (RFC 3261 7.3.1: only list headers may repeat). The same
 * header twice with the same value is tolerated; with different values the message is ambiguous
 * (RFC 4475 3.3.8: two Call-IDs, two CSeqs, two Froms...) and is refused.
 */
const SINGLE_VALUE_HEADERS: ReadonlySet<string> = new Set([
  'call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type', 'expires',
  'min-expires', 'date', 'timestamp', 'retry-after', 'mime-version', 'subject', 'priority',
  'organization', 'reply-to', 'user-agent', 'server', 'rseq', 'rack', 'event', 'subscription-state',
  'session-expires', 'min-se', 'refer-to', 'referred-by', 'replaces',
]);

/** RFC 3261 25.1 gen-value: token, host (IPv6 reference included) or quoted-string. */
const PARAM_VALUE = /^(?:[A-Za-z0-9\-.!%*_+`'~:[\]]+|"(?:[^"\\]|\\.)*")$/;

/**
 * `;name[=value]` lists (generic-param, RFC 3261 25.1) with LWS allowed around `;` and `=`:
 * every parameter has a token name, and a value when there is an `=` (RFC 4475 3.1.2.1: `;;`).
 */
export function validParams(text: string): boolean {
  if (text.trim() === '') return true;
  const parts = splitOutsideQuotes(text, ';');
  if ((parts[0] ?? '').trim() !== '') return false;
  for (const raw of parts.slice(1)) {
    const p = raw.trim();
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim();
    if (!isToken(name)) return false;
    if (eq >= 0 && !PARAM_VALUE.test(p.slice(eq + 1).trim())) return false;
  }
  return true;
}

/** Every Via value of every Via line (RFC 3261 20.42): no empty list elements, no empty parameters. */
export function checkViaHeaders(msg: SipMessage): string | undefined {
  for (const h of msg.headers) {
    if (canonicalHeaderKey(h.name) !== 'via') continue;
    const elements = splitCommasKeepingEmpty(h.value);
    for (const el of elements) {
      if (el.trim() === '') return 'invalid Via';
      const semi = el.indexOf(';');
      if (!isVia(el) || (semi >= 0 && !validParams(el.slice(semi)))) return 'invalid Via';
    }
  }
  return undefined;
}

/**
 * An unquoted display name: tokens separated by LWS (RFC 3261 25.1). Non-ASCII letters are let
 * through as well: some UAs send UTF-8 names unquoted, and nothing is ambiguous about them.
 */
const DISPLAY_TOKENS = /^[A-Za-z0-9\-.!%*_+`'~\u0080-\uffff]+(?:[ \t]+[A-Za-z0-9\-.!%*_+`'~\u0080-\uffff]+)*$/;
/** addr-spec without <>: no LWS, and none of the characters that force name-addr (RFC 3261 20.10). */
const BARE_ADDR_SPEC = /^[A-Za-z][A-Za-z0-9+\-.]*:[^\s<>",?;]+$/;
/** an addr-spec inside <>: no LWS at all (RFC 3261 25.1 LAQUOT addr-spec RAQUOT; RFC 4475 3.1.2.14). */
const BRACKETED_ADDR_SPEC = /^[A-Za-z][A-Za-z0-9+\-.]*:[^\s<>"]+$/;

/**
 * One From, To, Contact, Route or Record-Route value in full RFC 3261 grammar: name-addr with a
 * quoted or token display name (RFC 4475 3.1.2.6, 3.1.2.15), or addr-spec without `?`/`,`
 * (3.1.2.13), then header parameters. `*` is a Contact of its own (REGISTER, 10.2.2).
 */
export function validNameAddr(value: string): boolean {
  const v = value.trim();
  if (v === '*') return true;
  let rest = v;
  if (rest.startsWith('"')) {
    let i = 1;
    for (; i < rest.length; i++) {
      if (rest[i] === '\\') i++;
      else if (rest[i] === '"') break;
    }
    if (i >= rest.length) return false;
    rest = rest.slice(i + 1).trimStart();
    if (!rest.startsWith('<')) return false;
  }
  const lt = rest.indexOf('<');
  if (lt >= 0) {
    const display = rest.slice(0, lt).trim();
    // RFC 4475 3.1.1.6: no LWS between a token display name and < is accepted.
    if (display !== '' && !DISPLAY_TOKENS.test(display)) return false;
    const gt = rest.indexOf('>', lt);
    if (gt < 0) return false;
    if (!BRACKETED_ADDR_SPEC.test(rest.slice(lt + 1, gt))) return false;
    return validParams(rest.slice(gt + 1));
  }
  const semi = rest.indexOf(';');
  const uri = (semi < 0 ? rest : rest.slice(0, semi)).trim();
  if (!BARE_ADDR_SPEC.test(uri)) return false;
  return validParams(semi < 0 ? '' : rest.slice(semi));
}

const NAME_ADDR_HEADERS = new Set(['from', 'to', 'contact', 'route', 'record-route']);

/** Request-only checks (a response is never refused for these): single values, name-addr grammar, Max-Forwards. */
export function checkRequestHeaders(req: SipRequest): string | undefined {
  const seen = new Map<string, string>();
  for (const h of req.headers) {
    const key = canonicalHeaderKey(h.name);
    if (SINGLE_VALUE_HEADERS.has(key)) {
      // values are compared with their white space collapsed, only when a header repeats
      const before = seen.get(key);
      if (before !== undefined && before !== h.value && collapseSpace(before) !== collapseSpace(h.value)) return `conflicting ${key} values`;
      if (before === undefined) seen.set(key, h.value);
    }
    if (NAME_ADDR_HEADERS.has(key)) {
      const values = key === 'from' || key === 'to' ? [h.value] : splitCommasKeepingEmpty(h.value);
      for (const v of values) if (!validNameAddr(v)) return `invalid ${key}`;
    }
  }
  const mf = seen.get('max-forwards');
  // RFC 3261 20.22: 1*DIGIT. RFC 4475 3.1.2.4 lets a too-large value pass as if absent.
  if (mf !== undefined && !/^\d+$/.test(mf.trim())) return 'invalid max-forwards';
  return undefined;
}

function collapseSpace(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** Top-level comma split (outside quotes and <>) that keeps empty elements, so `a,,b` and a trailing `,` show. */
function splitCommasKeepingEmpty(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '<') depth++;
    else if (ch === '>') depth = Math.max(0, depth - 1);
    else if (ch === ',' && depth === 0) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out;
}
