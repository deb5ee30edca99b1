/**
 * Parsing of one complete SIP message (RFC 3261 7, 18.3) and TCP stream framing. Nothing here
 * throws: every failure is a ParseResult with a reason, plus the request when enough of it was
 * read to answer 400 (RFC 3261 8.2, 16.3 sanity checks).
 */
import { canonicalHeaderKey, isToken } from './header-names.ts';
import { isNameAddr, parseCSeq } from './header-values.ts';
import { getHeader, getHeaders } from './message.ts';
import type { SipHeader, SipMessage, SipRequest, SipResponse } from './message.ts';
import { checkRequestHeaders, checkViaHeaders } from './header-checks.ts';
import { checkRequestLine, type RequestLineVerdict } from './request-line.ts';

export type ParseResult =
  | { ok: true; message: SipMessage }
  | {
      ok: false;
      reason: string;
      /** enough was parsed to answer (RFC 3261 8.2, 16.3 sanity checks) */
      request?: SipRequest;
      /** the answer due when request is set: 400, 413, or 505 (RFC 3261 8.2.6, 21.5.20) */
      status?: number;
    };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

/** One datagram or one framed stream message. */
export function parseMessage(data: Buffer, maxBytes: number): ParseResult {
  try {
    return parseUnsafe(data, maxBytes);
  } catch (err) {
    return { ok: false, reason: `unparseable: ${(err as Error).message}` };
  }
}

interface Head {
  headEnd: number;
  bodyStart: number;
}

function findHeadEnd(data: Buffer, from: number): Head | undefined {
  const crlf = data.indexOf(CRLFCRLF, from);
  const lf = data.indexOf(LFLF, from);
  // Bare LF line ends are tolerated (RFC 3261 7 requires CRLF, but being lenient costs nothing).
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { headEnd: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headEnd: lf, bodyStart: lf + 2 };
  return undefined;
}

/** RFC 3261 7.5: CRLFs before the start line are ignored. */
function skipLeadingLineEnds(data: Buffer): number {
  let i = 0;
  while (i < data.length && (data[i] === 0x0d || data[i] === 0x0a)) i++;
  return i;
}

function parseUnsafe(data: Buffer, maxBytes: number): ParseResult {
  const start = skipLeadingLineEnds(data);
  if (start >= data.length) return { ok: false, reason: 'empty message' };
  const tooLarge = data.length > maxBytes;
  const head = findHeadEnd(data, start);
  const headText = data.toString('utf8', start, head ? head.headEnd : data.length);
  const lines = unfold(splitLines(headText));
  const first = lines.shift() ?? '';

  const startLine = parseStartLine(first);
  if (!startLine) return { ok: false, reason: 'bad start line' };
  const lineFault = startLine.kind === 'request' ? startLine.fault : undefined;

  const headers: SipHeader[] = [];
  let badLine: string | undefined;
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    // A leading space here is a continuation with no header to continue (right after the start line).
    if (colon < 0 || !isToken(name) || startsWithSpace(line)) {
      badLine ??= colon < 0 ? 'header line without colon' : 'bad header name';
      continue;
    }
    headers.push({ name, value: line.slice(colon + 1).trim() });
  }

  const body = head ? data.subarray(head.bodyStart) : Buffer.alloc(0);
  const msg: SipMessage =
    startLine.kind === 'request'
      ? { kind: 'request', method: startLine.method, uri: startLine.uri, headers, body }
      : { kind: 'response', status: startLine.status, reason: startLine.reason, headers, body };
  const fail = (reason: string, status = 400): ParseResult =>
    msg.kind === 'request' ? { ok: false, reason, request: { ...msg, body: Buffer.from(msg.body) }, status } : { ok: false, reason };

  if (tooLarge) return fail('message too large', 413);
  if (lineFault) return fail(lineFault.reason, lineFault.status);
  if (!head) return fail('no blank line after headers');
  if (badLine) return fail(badLine);

  const lengths = getHeaders(msg, 'content-length');
  if (lengths.length > 0) {
    const values = new Set(lengths.map((v) => v.trim()));
    const text = lengths[0]?.trim() ?? '';
    if (values.size > 1) return fail('conflicting Content-Length');
    if (!/^\d{1,10}$/.test(text)) return fail('invalid Content-Length');
    const length = Number(text);
    // RFC 3261 18.3: extra bytes in a datagram after Content-Length are discarded; fewer is an error.
    if (body.length < length) return fail('body shorter than Content-Length');
    msg.body = Buffer.from(body.subarray(0, length));
  } else {
    msg.body = Buffer.from(body);
  }

  const insane = sanityCheck(msg);
  if (insane) return fail(insane);
  return { ok: true, message: msg };
}

/** The lines of a head, split at CRLF or a bare LF (as `split(/\r?\n/)`). */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (;;) {
    const lf = text.indexOf('\n', from);
    if (lf < 0) break;
    out.push(text.slice(from, lf > from && text.charCodeAt(lf - 1) === 0x0d ? lf - 1 : lf));
    from = lf + 1;
  }
  out.push(text.slice(from));
  return out;
}

/** `/^\s/`: a line that starts with white space. */
function startsWithSpace(line: string): boolean {
  return line.length > 0 && line.trimStart().length !== line.length;
}

/** RFC 3261 7.3.1: a line starting with whitespace continues the previous header line. */
function unfold(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 1) {
      out[out.length - 1] = `${out[out.length - 1]} ${line.trim()}`;
    } else if (line.trim() !== '' || out.length === 0) {
      out.push(line);
    }
  }
  return out;
}

type StartLine =
  | { kind: 'request'; method: string; uri: string; /** set when the line is answerable but wrong */ fault?: Extract<RequestLineVerdict, { ok: false }> }
  | { kind: 'response'; status: number; reason: string };

/**
 * RFC 3261 7.1 / 7.2. A status line must be `SIP/2.0 3DIGIT SP reason`; anything else is dropped
 * (responses are never answered). A request line is judged by checkRequestLine: a line that
 * claims to be SIP (a method token, then `SIP/x.y` at the end) is kept so the request can be
 * answered 400 or 505 (RFC 4475 3.1.2.7-3.1.2.11, 3.1.2.16); anything else is not SIP and is dropped.
 */
function parseStartLine(line: string): StartLine | undefined {
  if (/^SIP\//i.test(line)) {
    // RFC 4475 3.1.1.13: the SP before an empty reason phrase may be missing; tolerated.
    const m = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/i.exec(line);
    if (!m) return undefined;
    return { kind: 'response', status: Number(m[1]), reason: (m[2] ?? '').trim() };
  }
  const verdict = checkRequestLine(line);
  if (!verdict) return undefined;
  if (verdict.ok) return { kind: 'request', method: verdict.method, uri: verdict.uri };
  return { kind: 'request', method: verdict.method, uri: verdict.uri, fault: verdict };
}

/** The mandatory headers of RFC 3261 8.1.1 must be present and readable. */
function sanityCheck(msg: SipRequest | SipResponse): string | undefined {
  const via = getHeader(msg, 'via');
  if (via === undefined) return 'missing Via';
  const badVia = checkViaHeaders(msg);
  if (badVia) return badVia;
  for (const name of ['From', 'To'] as const) {
    const v = getHeader(msg, name);
    if (v === undefined) return `missing ${name}`;
    if (!isNameAddr(v)) return `invalid ${name}`;
  }
  const callId = getHeader(msg, 'call-id');
  if (callId === undefined) return 'missing Call-ID';
  if (callId === '' || /\s/.test(callId)) return 'invalid Call-ID';
  const cseqText = getHeader(msg, 'cseq');
  if (cseqText === undefined) return 'missing CSeq';
  const cseq = parseCSeq(cseqText);
  if (!cseq) return 'invalid CSeq';
  if (msg.kind === 'request' && cseq.method !== msg.method) return 'CSeq method does not match request method';
  // Requests get the full grammar of the headers the edge and srf read; a carrier's response is
  // not refused for an odd display name (it could not be answered anyway, only lost).
  if (msg.kind === 'request') return checkRequestHeaders(msg);
  return undefined;
}

export type FramerOutput = { ok: true; data: Buffer } | { ok: false; reason: string };

/**
 * Splits a TCP byte stream into messages (RFC 3261 18.3: header end, then Content-Length bytes).
 * CRLF keep-alives between messages (RFC 5626 3.5.1) are skipped. After an error the stream
 * cannot be resynchronised: the framer reports it once and the caller closes the connection.
 */
export class SipStreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private failed = false;
  /** CRLF keep-alive pings seen since the last call to takeKeepAlives() */
  private keepAlives = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): FramerOutput[] {
    if (this.failed) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: FramerOutput[] = [];
    try {
      for (;;) {
        const skip = skipLeadingLineEnds(this.buffer);
        if (skip > 0) {
          if (skip >= 4 || this.buffer.subarray(0, skip).includes(CRLFCRLF)) this.keepAlives++;
          this.buffer = this.buffer.subarray(skip);
        }
        if (this.buffer.length === 0) break;
        const head = findHeadEnd(this.buffer, 0);
        if (!head) {
          if (this.buffer.length > this.maxBytes) return this.fail(out, 'message too large');
          break;
        }
        if (head.bodyStart > this.maxBytes) return this.fail(out, 'message too large');
        const length = contentLengthOf(this.buffer.subarray(0, head.headEnd).toString('utf8'));
        if (length === 'invalid') return this.fail(out, 'invalid Content-Length');
        const total = head.bodyStart + length;
        if (total > this.maxBytes) return this.fail(out, 'message too large');
        if (this.buffer.length < total) break;
        out.push({ ok: true, data: Buffer.from(this.buffer.subarray(0, total)) });
        this.buffer = this.buffer.subarray(total);
      }
    } catch (err) {
      return this.fail(out, `framing failed: ${(err as Error).message}`);
    }
    return out;
  }

  /** Number of double-CRLF keep-alive pings seen since the last call (the transport answers each with CRLF). */
  takeKeepAlives(): number {
    const n = this.keepAlives;
    this.keepAlives = 0;
    return n;
  }

  private fail(out: FramerOutput[], reason: string): FramerOutput[] {
    this.failed = true;
    this.buffer = Buffer.alloc(0);
    out.push({ ok: false, reason });
    return out;
  }
}

/**
 * Content-Length from a raw head. Missing counts as 0: RFC 3261 18.3 makes it mandatory on
 * streams, but a body-less message without it is common and harmless.
 */
function contentLengthOf(headText: string): number | 'invalid' {
  let found: number | 'invalid' | undefined;
  for (const line of headText.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.startsWith(' ') || line.startsWith('\t')) continue;
    if (canonicalHeaderKey(line.slice(0, colon)) !== 'content-length') continue;
    const v = line.slice(colon + 1).trim();
    const n = /^\d{1,10}$/.test(v) ? Number(v) : 'invalid';
    if (found !== undefined && found !== n) return 'invalid';
    found = n;
  }
  return found ?? 0;
}
