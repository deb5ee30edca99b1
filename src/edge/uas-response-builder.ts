/**
 * Turns the response an application wrote into the one the edge sends (RFC 3261 8.2.6): the
 * transaction-identifying headers come from the request as received, the To tag is the edge's
 * unless the app chose one, Record-Route is copied for dialog-creating responses (12.1.1), a
 * response that creates a dialog or an early dialog (101-299 to INVITE, 2xx to SUBSCRIBE) gets
 * a Contact when it has none (12.1.1 MUST), and `@localhost` names the edge (docs/edge.md §3.2).
 */
import { getHeader, getHeaders, hasHeader, nameAddrParam, parseNameAddr, formatNameAddr, setHeader, type SipRequest, type SipResponse } from './sip/message.ts';
import { canonicalHeaderKey } from './sip/header-names.ts';
import type { TransportName } from './sip/transport.ts';
import { edgeContact, looksLikeSdp, type EdgeSipAddress } from './sip-identity.ts';
import { localizeAppHeaders } from './uac-request-builder.ts';

/** Taken from the request, whatever the app wrote (8.2.6.2). */
const FROM_REQUEST = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'content-length', 'record-route', 'rseq']);

export interface ResponseContext {
  /** the edge's To tag for this server transaction (stable across its 1xx and final) */
  toTag: string;
  local: EdgeSipAddress;
  transport: TransportName;
}

export function buildResponse(request: SipRequest, app: SipResponse, ctx: ResponseContext): SipResponse {
  const res: SipResponse = { kind: 'response', status: app.status, reason: app.reason || 'Unknown', headers: [], body: app.body };
  for (const via of getHeaders(request, 'Via')) res.headers.push({ name: 'Via', value: via });
  const dialogCreating = (request.method === 'INVITE' || request.method === 'SUBSCRIBE') && app.status > 100 && app.status < 300;
  if (dialogCreating) {
    for (const rr of getHeaders(request, 'Record-Route')) res.headers.push({ name: 'Record-Route', value: rr });
  }
  res.headers.push({ name: 'From', value: getHeader(request, 'From') ?? '' });
  res.headers.push({ name: 'To', value: toWithTag(request, app, ctx.toTag) });
  res.headers.push({ name: 'Call-ID', value: getHeader(request, 'Call-ID') ?? '' });
  res.headers.push({ name: 'CSeq', value: getHeader(request, 'CSeq') ?? '' });
  for (const h of app.headers) {
    if (!FROM_REQUEST.has(canonicalHeaderKey(h.name))) res.headers.push({ ...h });
  }
  localizeAppHeaders(res, ctx.local);
  const needsContact = request.method === 'INVITE' ? app.status > 100 && app.status < 300 : dialogCreating && app.status >= 200;
  if (needsContact && !hasHeader(res, 'Contact')) {
    setHeader(res, 'Contact', edgeContact(ctx.local, ctx.transport));
  }
  if (res.body.length > 0 && !hasHeader(res, 'Content-Type') && looksLikeSdp(res.body)) {
    setHeader(res, 'Content-Type', 'application/sdp');
  }
  return res;
}

/** The To of a response: request's To, plus a tag (the app's, else the edge's) unless 100 (8.2.6.2). */
function toWithTag(request: SipRequest, app: SipResponse, edgeTag: string): string {
  const to = getHeader(request, 'To') ?? '';
  const na = parseNameAddr(to);
  if (!na || na.params.get('tag') || app.status === 100) return to;
  const appTag = nameAddrParam(getHeader(app, 'To') ?? '', 'tag');
  na.params.set('tag', appTag || edgeTag);
  return formatNameAddr(na);
}
