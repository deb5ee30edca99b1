/** Building a response from a request (RFC 3261 8.2.6.2). */
import { addHeader, getHeader, getHeaders } from './message.ts';
import type { SipRequest, SipResponse } from './message.ts';
import { tagOf } from './header-values.ts';

const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  513: 'Message Too Large',
  603: 'Decline',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 200 ? 'Provisional' : status < 300 ? 'OK' : 'Error');
}

/**
 * A response with Via (all values, in order), From, To, Call-ID and CSeq copied from the request
 * (8.2.6.2). toTag is added to To unless the request's To already has a tag. Tolerates requests
 * missing some of those headers (a 400 for a broken request still goes out with what there is).
 */
export function createResponse(req: SipRequest, status: number, reason?: string, toTag?: string): SipResponse {
  const res: SipResponse = { kind: 'response', status, reason: reason ?? reasonPhrase(status), headers: [], body: Buffer.alloc(0) };
  for (const v of getHeaders(req, 'via')) addHeader(res, 'Via', v);
  const from = getHeader(req, 'from');
  if (from !== undefined) addHeader(res, 'From', from);
  const to = getHeader(req, 'to');
  if (to !== undefined) addHeader(res, 'To', toTag !== undefined && tagOf(to) === undefined ? `${to};tag=${toTag}` : to);
  const callId = getHeader(req, 'call-id');
  if (callId !== undefined) addHeader(res, 'Call-ID', callId);
  const cseq = getHeader(req, 'cseq');
  if (cseq !== undefined) addHeader(res, 'CSeq', cseq);
  // RFC 3261 8.2.6.1: a Timestamp in the request is echoed in 100 Trying.
  const ts = getHeader(req, 'timestamp');
  if (status === 100 && ts !== undefined) addHeader(res, 'Timestamp', ts);
  return res;
}
