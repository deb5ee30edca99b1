/**
 * The SIP message model (RFC 3261 7): a start line, an ordered list of header lines as received,
 * and a body. Lookups understand compact names and comma-separated list headers.
 */
import { canonicalHeaderKey, isCommaListHeader, namesHeader, splitTopLevelCommas } from './header-names.ts';

export { parseNameAddr, isNameAddr, nameAddrParam, nameAddrUri, formatNameAddr, tagOf, parseVia, isVia, formatVia, parseCSeq } from './header-values.ts';
export type { NameAddr, Via, CSeq } from './header-values.ts';
export { parseUri, formatUri } from './uri.ts';
export type { SipUri } from './uri.ts';

/** name as received (or as set), value trimmed */
export interface SipHeader {
  name: string;
  value: string;
}
export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: SipHeader[];
  body: Buffer;
}
export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeader[];
  body: Buffer;
}
export type SipMessage = SipRequest | SipResponse;

/**
 * First value of a header. For the list headers (Via, Route, Record-Route, Contact) this is the
 * first comma-separated element of the first line, i.e. the topmost value (RFC 3261 7.3.1 says
 * both spellings are equivalent); for any other header it is the whole first line.
 */
export function getHeader(msg: SipMessage, name: string): string | undefined {
  const key = canonicalHeaderKey(name);
  const i = indexOfHeader(msg.headers, key);
  if (i < 0) return undefined;
  const h = msg.headers[i]!;
  if (isCommaListHeader(key)) return splitTopLevelCommas(h.value)[0] ?? h.value;
  return h.value;
}

/** Every value of a header in order; list headers are split on top-level commas. */
export function getHeaders(msg: SipMessage, name: string): string[] {
  const key = canonicalHeaderKey(name);
  const list = isCommaListHeader(key);
  const out: string[] = [];
  for (const h of msg.headers) {
    if (!namesHeader(h.name, key)) continue;
    if (list) out.push(...splitTopLevelCommas(h.value));
    else out.push(h.value);
  }
  return out;
}

export function hasHeader(msg: SipMessage, name: string): boolean {
  const key = canonicalHeaderKey(name);
  return indexOfHeader(msg.headers, key) >= 0;
}

/** Replaces every line of that header (compact spellings included) by one line at the first one's place. */
export function setHeader(msg: SipMessage, name: string, value: string): void {
  const key = canonicalHeaderKey(name);
  const idx = indexOfHeader(msg.headers, key);
  removeHeader(msg, name);
  const h = { name, value: value.trim() };
  if (idx < 0) msg.headers.push(h);
  else msg.headers.splice(idx, 0, h);
}

/**
 * Adds one header line. 'top' puts it before the first line of the same header (or first of all
 * when there is none: a new top Via goes first); 'bottom' (default) after the last one, or at the end.
 */
export function addHeader(msg: SipMessage, name: string, value: string, where: 'top' | 'bottom' = 'bottom'): void {
  const key = canonicalHeaderKey(name);
  const h = { name, value: value.trim() };
  if (where === 'top') {
    const idx = indexOfHeader(msg.headers, key);
    msg.headers.splice(idx < 0 ? 0 : idx, 0, h);
    return;
  }
  let last = -1;
  for (let i = msg.headers.length - 1; i >= 0; i--) {
    if (namesHeader(msg.headers[i]!.name, key)) {
      last = i;
      break;
    }
  }
  if (last < 0) msg.headers.push(h);
  else msg.headers.splice(last + 1, 0, h);
}

export function removeHeader(msg: SipMessage, name: string): void {
  const key = canonicalHeaderKey(name);
  if (indexOfHeader(msg.headers, key) >= 0) msg.headers = msg.headers.filter((x) => !namesHeader(x.name, key));
}

/** Removes the topmost Via value (the first element of the first Via line). */
export function removeTopVia(msg: SipMessage): void {
  const idx = indexOfHeader(msg.headers, 'via');
  if (idx < 0) return;
  const h = msg.headers[idx];
  if (!h) return;
  const rest = splitTopLevelCommas(h.value).slice(1);
  if (rest.length === 0) msg.headers.splice(idx, 1);
  else msg.headers[idx] = { name: h.name, value: rest.join(', ') };
}

/** Replaces the topmost Via value, keeping any further values of that line. */
export function setTopVia(msg: SipMessage, value: string): void {
  const idx = indexOfHeader(msg.headers, 'via');
  const h = msg.headers[idx];
  if (!h) {
    addHeader(msg, 'Via', value, 'top');
    return;
  }
  const rest = splitTopLevelCommas(h.value).slice(1);
  msg.headers[idx] = { name: h.name, value: [value, ...rest].join(', ') };
}

/** Index of the first line of the header with canonical key `key`, or -1. */
function indexOfHeader(headers: readonly SipHeader[], key: string): number {
  for (let i = 0; i < headers.length; i++) if (namesHeader(headers[i]!.name, key)) return i;
  return -1;
}

export function startLine(msg: SipMessage): string {
  return msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
}

/**
 * Wire form. Header order is kept; Content-Length is always written from the body length, in
 * place of the first Content-Length line if there was one, otherwise last.
 */
export function serializeMessage(msg: SipMessage): Buffer {
  const head = serializeHead(msg);
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  // one allocation for head and body (Buffer.concat would copy the head a second time)
  const headBytes = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headBytes + msg.body.length);
  out.write(head, 0, 'utf8');
  msg.body.copy(out, headBytes);
  return out;
}

/**
 * The wire form as text and its length in bytes, for a message relayed to an app as text
 * (docs/performance.md §10): the same bytes serializeMessage gives, without a Buffer made only
 * to be decoded again.
 */
export function serializeMessageText(msg: SipMessage): { text: string; bytes: number } {
  const head = serializeHead(msg);
  if (msg.body.length === 0) return { text: head, bytes: Buffer.byteLength(head, 'utf8') };
  return { text: head + msg.body.toString('utf8'), bytes: Buffer.byteLength(head, 'utf8') + msg.body.length };
}

/** Start line and header lines, CRLF-terminated, with the blank line. */
function serializeHead(msg: SipMessage): string {
  let head = startLine(msg);
  let wroteLength = false;
  const contentLength = `\r\nContent-Length: ${msg.body.length}`;
  for (const h of msg.headers) {
    if (namesHeader(h.name, 'content-length')) {
      if (!wroteLength) head += contentLength;
      wroteLength = true;
      continue;
    }
    // A CR or LF inside a value would inject header lines; fold it to a space.
    const v = h.value;
    head += `\r\n${h.name}: ${v.includes('\r') || v.includes('\n') ? v.replace(/[\r\n]+/g, ' ') : v}`;
  }
  if (!wroteLength) head += contentLength;
  return head + '\r\n\r\n';
}

export function cloneMessage<T extends SipMessage>(msg: T): T {
  return { ...msg, headers: msg.headers.map((h) => ({ ...h })), body: Buffer.from(msg.body) };
}
