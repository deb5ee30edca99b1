/**
 * What a transaction or dialog keeps of a message once it only lingers (docs/performance.md §9).
 *
 * After its final response a transaction lives on for up to 64*T1 (RFC 3261 17.2.2 Timer J,
 * RFC 6026 Timers L and M) to absorb retransmissions, and a held call's two INVITE transactions
 * are in that state for most of the call. What they still need is little: the headers a
 * response is built from (8.2.6.2), and for a Completed transaction the bytes it repeats. The
 * rest (the body, every other header, the datagram the parser sliced them from) would stay
 * reachable for those 32 s and dominate the memory of a busy edge.
 *
 * V8 keeps a substring of 13 or more characters as a slice of its parent string, and a Buffer
 * cut from node's 8 KiB allocation pool keeps the whole pool slab: what lingers is copied out
 * of both, so it holds only its own bytes.
 */
import { canonicalHeaderKey } from '../sip/header-names.ts';
import { ownString } from '../../sip/own-string.ts';
import type { SipRequest } from '../sip/message.ts';

/** An empty body or byte string, shared. */
export const EMPTY = Buffer.alloc(0);

/** The headers createResponse copies (RFC 3261 8.2.6.2); Timestamp only matters for the 100 Trying sent at once. */
const ANSWER_HEADERS: ReadonlySet<string> = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * What answering a request still takes: a copy with its method and Request-URI, Via, From, To,
 * Call-ID and CSeq, and no body. A response built from it is the same as from the request. The
 * request itself is left as it is: whoever still delivers it (a CANCEL on its way to the app
 * after the edge answered it) has it whole.
 */
export function answerableCopy(req: SipRequest): SipRequest {
  const headers = req.headers.filter((h) => ANSWER_HEADERS.has(canonicalHeaderKey(h.name))).map((h) => ({ name: sharedName(h.name), value: ownString(h.value) }));
  return { kind: 'request', method: req.method, uri: ownString(req.uri), headers, body: EMPTY };
}

/**
 * What a lingering transaction keeps of its request: what answerableCopy keeps, in one flat
 * string (method, Request-URI, then each header's name and value, separated by LF, which no
 * parsed value holds), a third of the copy's size; or the copy itself should a value hold a LF.
 * answerableRequest gives the copy back.
 */
export type Answerable = string | SipRequest;

export function answerable(req: SipRequest): Answerable {
  const parts = [req.method, req.uri];
  for (const h of req.headers) if (ANSWER_HEADERS.has(canonicalHeaderKey(h.name))) parts.push(h.name, h.value);
  return joinedOr(parts, () => answerableCopy(req));
}

/** The parts joined by LF, one flat string of its own (join makes one); `copy()` should a part hold a LF. */
function joinedOr(parts: readonly string[], copy: () => SipRequest): Answerable {
  return parts.some((p) => p.includes('\n')) ? copy() : parts.join('\n');
}

export function answerableRequest(a: Answerable): SipRequest {
  if (typeof a !== 'string') return a;
  const parts = a.split('\n');
  const headers: SipRequest['headers'] = [];
  for (let i = 2; i + 1 < parts.length; i += 2) headers.push({ name: sharedName(parts[i]!), value: parts[i + 1]! });
  return { kind: 'request', method: parts[0]!, uri: parts[1]!, headers, body: EMPTY };
}

/**
 * What a client transaction keeps of its request once a final response came: nobody answers a
 * client transaction, and what it still does (absorb retransmissions, repeat its ACK, pass a
 * retransmitted 2xx up) takes neither its headers nor its body. Only the method and the
 * Request-URI, in one flat string (docs/performance.md §15); answerableRequest gives back a
 * request with no headers.
 */
export function requestLine(req: SipRequest): Answerable {
  return joinedOr([req.method, req.uri], () => ({ kind: 'request', method: req.method, uri: ownString(req.uri), headers: [], body: EMPTY }));
}

/** A copy of the bytes in a backing store of their own (not a slice of a shared pool slab). */
export function ownBytes(data: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}

/** The answer headers' names as written (Via, v, CALL-ID, …): a few dozen spellings, each kept once. */
const NAMES = new Map<string, string>();
const MAX_NAMES = 64;

function sharedName(name: string): string {
  const known = NAMES.get(name);
  if (known !== undefined) return known;
  const own = ownString(name);
  if (NAMES.size < MAX_NAMES) NAMES.set(own, own);
  return own;
}
