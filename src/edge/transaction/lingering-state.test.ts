import { describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../log/logger.ts';
import { getHeader, serializeMessage, type SipRequest } from '../sip/message.ts';
import { parseMessage } from '../sip/parser.ts';
import { createResponse } from '../sip/response-builder.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { FakeTransport, UDP_FLOW } from '../../../test/support/fake-transport.ts';
import { ownString } from '../../sip/own-string.ts';
import { answerable, answerableCopy, answerableRequest, ownBytes, requestLine } from './lingering-state.ts';
import { TransactionLayer, type ServerTransaction } from './transaction-layer.ts';

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const INVITE = [
  'INVITE sip:+12125550100@192.0.2.10 SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bKlinger1, SIP/2.0/UDP 192.0.2.30;branch=z9hG4bKup',
  'Max-Forwards: 70',
  'From: <sip:alice@example.org>;tag=a1',
  'To: <sip:+12125550100@example.com>',
  'Call-ID: linger-1@192.0.2.20',
  'CSeq: 7 INVITE',
  'Contact: <sip:alice@192.0.2.20:5070>',
  'Record-Route: <sip:proxy.example.org;lr>',
  'X-Customer: 42',
  'Content-Type: application/sdp',
  `Content-Length: ${SDP.length}`,
  '',
  SDP,
].join('\r\n');

function parsed(text: string): SipRequest {
  const r = parseMessage(Buffer.from(text), 65535);
  if (!r.ok || r.message.kind !== 'request') throw new Error('test message did not parse');
  return r.message;
}

describe('what a lingering transaction keeps (docs/performance.md §9)', () => {
  it('requestLine keeps a client transaction\'s method and Request-URI only, in a flat string of its own', () => {
    const req = parsed(INVITE);
    const line = requestLine(req);
    expect(typeof line).toBe('string');
    expect(answerableRequest(line)).toEqual({ kind: 'request', method: 'INVITE', uri: 'sip:+12125550100@192.0.2.10', headers: [], body: Buffer.alloc(0) });
    // a value holding a LF (no parsed one does) is kept as an object instead
    const odd = requestLine({ ...req, uri: 'sip:a\nb@example.com' });
    expect(answerableRequest(odd)).toMatchObject({ method: 'INVITE', uri: 'sip:a\nb@example.com', headers: [] });
  });

  it('answerableCopy keeps method, Request-URI, Via, From, To, Call-ID and CSeq, and nothing else', () => {
    const req = parsed(INVITE);
    const copy = answerableCopy(req);
    expect(copy.method).toBe('INVITE');
    expect(copy.uri).toBe(req.uri);
    expect(copy.headers.map((h) => h.name)).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq']);
    expect(copy.body.length).toBe(0);
    // the request itself is untouched (a CANCEL on its way to the app is delivered whole)
    expect(getHeader(req, 'X-Customer')).toBe('42');
    expect(req.body.toString()).toBe(SDP);
  });

  it('a response built from the copy is byte for byte the one built from the request', () => {
    const req = parsed(INVITE);
    for (const status of [180, 200, 408, 487, 500]) {
      expect(serializeMessage(createResponse(answerableCopy(req), status, undefined, 'to1')).toString()).toBe(
        serializeMessage(createResponse(req, status, undefined, 'to1')).toString(),
      );
    }
  });

  it('answerable keeps what answerableCopy keeps in one string, and gives the same copy back', () => {
    const req = parsed(INVITE);
    const kept = answerable(req);
    expect(typeof kept).toBe('string');
    expect((kept as string).includes('X-Customer')).toBe(false);
    expect((kept as string).includes('v=0')).toBe(false);
    expect(answerableRequest(kept)).toEqual(answerableCopy(req));
    for (const status of [200, 487]) {
      expect(serializeMessage(createResponse(answerableRequest(kept), status, undefined, 'to1')).toString()).toBe(
        serializeMessage(createResponse(req, status, undefined, 'to1')).toString(),
      );
    }
  });

  it('answerable keeps the copy itself when a value holds a line feed', () => {
    const req = parsed(INVITE);
    req.headers.find((h) => h.name === 'From')!.value = '<sip:alice@example.org>;tag=a1\nX-Injected: 1';
    const kept = answerable(req);
    expect(typeof kept).not.toBe('string');
    expect(answerableRequest(kept)).toEqual(answerableCopy(req));
  });

  it('ownBytes copies into a store of its own; ownString keeps the value', () => {
    const pooled = Buffer.from('SIP/2.0 200 OK\r\n\r\n');
    const own = ownBytes(pooled);
    expect(own.equals(pooled)).toBe(true);
    expect(own.buffer).not.toBe(pooled.buffer);
    expect(own.byteLength).toBe(own.buffer.byteLength);
    const long = INVITE.slice(10, 60);
    expect(ownString(long)).toBe(long);
    expect(ownString('short')).toBe('short');
    const wide = '"Jürgen Grüße 🎉" <sip:j@example.com>;tag=9f';
    expect(ownString(wide)).toBe(wide);
  });

  it('an INVITE server transaction past its 2xx keeps only an answerable request, and still absorbs retransmissions', async () => {
    const clock = new ManualClock();
    const transport = new FakeTransport(clock);
    const layer = new TransactionLayer({ transport, timers: { t1: 100, t2: 400, t4: 500 }, clock, logger: createCapturingLogger().logger });
    const txns: ServerTransaction[] = [];
    layer.on('request', (_req, t) => {
      if (t) txns.push(t);
    });
    transport.inject(INVITE, UDP_FLOW);
    const t = txns[0]!;
    expect(t.request.body.toString()).toBe(SDP);
    await t.respond(createResponse(t.request, 200, undefined, 'to1'));
    expect(t.state).toBe('accepted');
    expect(t.request.body.length).toBe(0);
    expect(t.request.headers.map((h) => h.name)).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq']);
    const sentBefore = transport.sent.length;
    transport.inject(INVITE, UDP_FLOW);
    // RFC 6026 7.1: absorbed in Accepted, no new transaction and nothing sent
    expect(txns).toHaveLength(1);
    expect(transport.sent.length).toBe(sentBefore);
    layer.close();
  });
});
