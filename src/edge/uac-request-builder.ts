/**
 * Completes a new out-of-dialog request written by an application into one the edge can send
 * (what drachtio-server does for srf): Max-Forwards, From tag, Call-ID, CSeq, To/From/Contact
 * defaults and the `@localhost` rewrite. The transaction layer adds the Via.
 */
import { formatNameAddr, getHeader, hasHeader, isNameAddr, parseCSeq, parseNameAddr, removeHeader, setHeader, type SipMessage, type SipRequest } from './sip/message.ts';
import { splitTopLevelCommas } from './sip/header-names.ts';
import { canonicalHeaderKey } from './sip/header-names.ts';
import type { TransportName } from './sip/transport.ts';
import { edgeContact, hostport, looksLikeSdp, newCallId, newTag, type EdgeSipAddress } from './sip-identity.ts';

/** Headers only the stack may write (RFC 3261 8.1.1.7, 16.6, RFC 3262 7.1, 20.14). */
export const STACK_OWNED_HEADERS: readonly string[] = ['via', 'route', 'record-route', 'rseq', 'content-length'];

/** Strips the stack-owned headers an application wrote; returns the names it dropped. */
export function dropStackOwnedHeaders(msg: { headers: Array<{ name: string; value: string }> }): string[] {
  const dropped: string[] = [];
  msg.headers = msg.headers.filter((h) => {
    const owned = STACK_OWNED_HEADERS.includes(canonicalHeaderKey(h.name));
    if (owned && canonicalHeaderKey(h.name) !== 'content-length') dropped.push(h.name);
    return !owned;
  });
  return dropped;
}

const LOCALHOST_HEADERS = ['From', 'To', 'Contact', 'P-Asserted-Identity'];

/**
 * srf writes `sip:<number>@localhost` when it does not know the server's address; drachtio-server
 * puts its own host:port there (docs/edge.md §3.2), in requests and responses alike.
 */
export function rewriteLocalhost(req: SipMessage, local: EdgeSipAddress): void {
  for (const h of req.headers) {
    if (LOCALHOST_HEADERS.some((n) => canonicalHeaderKey(n) === canonicalHeaderKey(h.name))) {
      h.value = h.value.replace(/@localhost(:\d+)?(?=[>;?,\s]|$)/gi, `@${hostport(local)}`);
    }
  }
}

/**
 * Contact values as sofia-sip writes them: always a name-addr in `<>` (RFC 3261 20.10: a URI
 * with `;`, `,` or `?` must be bracketed, and an addr-spec's parameters belong to the header).
 */
export function bracketContacts(msg: SipMessage): void {
  for (const h of msg.headers) {
    if (canonicalHeaderKey(h.name) !== 'contact') continue;
    h.value = splitTopLevelCommas(h.value)
      .map((v) => {
        const na = v.trim() === '*' ? undefined : parseNameAddr(v);
        return na ? formatNameAddr(na) : v;
      })
      .join(', ');
  }
}

/** What the edge does to every header block an application writes (docs/edge.md §3.2). */
export function localizeAppHeaders(msg: SipMessage, local: EdgeSipAddress): void {
  rewriteLocalhost(msg, local);
  bracketContacts(msg);
}

/** Methods that never carry the edge's Contact by default. */
const NO_CONTACT = new Set(['ACK', 'CANCEL', 'BYE', 'PRACK']);

export function completeNewRequest(req: SipRequest, local: EdgeSipAddress, transport: TransportName): SipRequest {
  dropStackOwnedHeaders(req);
  localizeAppHeaders(req, local);
  setHeader(req, 'Max-Forwards', getHeader(req, 'Max-Forwards') ?? '70');

  const from = getHeader(req, 'From');
  const fromNa = from !== undefined ? parseNameAddr(from) : undefined;
  if (!fromNa) {
    setHeader(req, 'From', `<sip:outdial@${hostport(local)}>;tag=${newTag()}`);
  } else if (!fromNa.params.get('tag')) {
    setHeader(req, 'From', `${from};tag=${newTag()}`);
  }
  if (!hasHeader(req, 'To') || !isNameAddr(getHeader(req, 'To') ?? '')) setHeader(req, 'To', `<${req.uri}>`);
  if (!getHeader(req, 'Call-ID')) setHeader(req, 'Call-ID', newCallId());
  const cseq = parseCSeq(getHeader(req, 'CSeq') ?? '');
  setHeader(req, 'CSeq', `${cseq?.seq ?? 1} ${req.method}`);
  if (!hasHeader(req, 'Contact') && !NO_CONTACT.has(req.method)) setHeader(req, 'Contact', edgeContact(local, transport));
  if (req.body.length > 0 && !hasHeader(req, 'Content-Type') && looksLikeSdp(req.body)) {
    setHeader(req, 'Content-Type', 'application/sdp');
  }
  if (req.body.length === 0) removeHeader(req, 'Content-Type');
  return req;
}
