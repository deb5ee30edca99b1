import { describe, expect, it } from 'vitest';
import { getHeader, getHeaders, type SipRequest } from './sip/message.ts';
import { parseAppSip } from './wire/app-sip-text.ts';
import { completeNewRequest } from './uac-request-builder.ts';
import { buildResponse } from './uas-response-builder.ts';
import { Dialog, uasDialogInit } from './dialog/dialog.ts';
import { DialogStore } from './dialog/dialog-store.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';

const LOCAL = { host: '10.0.0.5', port: 5070 };
const ENV = { clock: new ManualClock(), onError: (err: unknown) => { throw err; } };

function appRequest(text: string): SipRequest {
  const m = parseAppSip(text);
  if (!m || m.kind !== 'request') throw new Error('not a request');
  return m;
}

describe('completeNewRequest (app → network)', () => {
  it('fills in what srf leaves to the server and rewrites @localhost', () => {
    const req = completeNewRequest(
      appRequest('INVITE sip:+15551234@carrier.example SIP/2.0\r\nfrom: sip:+1999@localhost\r\ncontent-length: 3\r\n\r\nv=0'),
      LOCAL,
      'tcp',
    );
    expect(getHeader(req, 'Max-Forwards')).toBe('70');
    expect(getHeader(req, 'From')).toMatch(/^sip:\+1999@10\.0\.0\.5:5070;tag=[0-9a-f]+$/);
    expect(getHeader(req, 'To')).toBe('<sip:+15551234@carrier.example>');
    // a GUID as drachtio-server's (sofia-sip) Call-IDs: a token, usable as a tag (docs/edge.md §3.1)
    expect(getHeader(req, 'Call-ID')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(getHeader(req, 'CSeq')).toBe('1 INVITE');
    expect(getHeader(req, 'Contact')).toBe('<sip:10.0.0.5:5070;transport=tcp>');
    expect(getHeader(req, 'Content-Type')).toBe('application/sdp');
  });

  it.each(['Via', 'Route', 'Record-Route', 'RSeq'])('drops an app-supplied %s', (name) => {
    const req = completeNewRequest(appRequest(`OPTIONS sip:a@b SIP/2.0\r\n${name}: <sip:x>\r\n\r\n`), LOCAL, 'udp');
    expect(getHeaders(req, name)).toEqual([]);
  });

  it('keeps the Call-ID, From tag and Contact the app chose', () => {
    const req = completeNewRequest(
      appRequest('INVITE sip:a@b SIP/2.0\r\nCall-ID: abc\r\nFrom: <sip:me@x>;tag=T1\r\nContact: <sip:me@x>\r\n\r\n'),
      LOCAL,
      'udp',
    );
    expect(getHeader(req, 'Call-ID')).toBe('abc');
    expect(getHeader(req, 'From')).toBe('<sip:me@x>;tag=T1');
    expect(getHeader(req, 'Contact')).toBe('<sip:me@x>');
  });
});

const INVITE: SipRequest = {
  kind: 'request',
  method: 'INVITE',
  uri: 'sip:edge@10.0.0.5',
  headers: [
    { name: 'Via', value: 'SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK1, SIP/2.0/UDP 5.6.7.8;branch=z9hG4bK0' },
    { name: 'Record-Route', value: '<sip:p1;lr>' },
    { name: 'From', value: '<sip:a@1.2.3.4>;tag=F1' },
    { name: 'To', value: '<sip:edge@10.0.0.5>' },
    { name: 'Call-ID', value: 'c1' },
    { name: 'CSeq', value: '7 INVITE' },
    { name: 'Contact', value: '<sip:a@1.2.3.4:5062>' },
  ],
  body: Buffer.alloc(0),
};

describe('buildResponse (app → network)', () => {
  it('copies Via, From, Call-ID, CSeq and Record-Route from the request, adds the To tag and Contact on 2xx', () => {
    const app = parseAppSip('SIP/2.0 200 OK\r\nvia: bogus\r\ncall-id: wrong\r\n\r\nv=0\r\n');
    if (!app || app.kind !== 'response') throw new Error('parse');
    const res = buildResponse(INVITE, app, { toTag: 'EDGE', local: LOCAL, transport: 'udp' });
    expect(getHeaders(res, 'Via')).toHaveLength(2);
    expect(getHeader(res, 'Call-ID')).toBe('c1');
    expect(getHeader(res, 'To')).toBe('<sip:edge@10.0.0.5>;tag=EDGE');
    expect(getHeader(res, 'Record-Route')).toBe('<sip:p1;lr>');
    expect(getHeader(res, 'Contact')).toBe('<sip:10.0.0.5:5070>');
    expect(getHeader(res, 'Content-Type')).toBe('application/sdp');
  });

  it('uses the To tag the app chose and adds no Contact to a failure', () => {
    const app = parseAppSip('SIP/2.0 486 Busy Here\r\nTo: <sip:edge@10.0.0.5>;tag=APP\r\n\r\n');
    if (!app || app.kind !== 'response') throw new Error('parse');
    const res = buildResponse(INVITE, app, { toTag: 'EDGE', local: LOCAL, transport: 'udp' });
    expect(getHeader(res, 'To')).toBe('<sip:edge@10.0.0.5>;tag=APP');
    expect(getHeader(res, 'Contact')).toBeUndefined();
    expect(getHeader(res, 'Record-Route')).toBeUndefined();
  });
});

describe('Dialog', () => {
  const sent = buildResponse(INVITE, { kind: 'response', status: 200, reason: 'OK', headers: [], body: Buffer.alloc(0) }, { toTag: 'L1', local: LOCAL, transport: 'udp' });
  const init = uasDialogInit(INVITE, sent, { transport: 'udp', ownerAppId: 'app-1', inviteWireTxnId: 'w1' })!;

  it('is named <Call-ID>;from-tag=<INVITE From tag> and found from either direction', () => {
    const d = new Dialog(init, ENV);
    expect(d.id).toBe('c1;from-tag=F1');
    const store = new DialogStore();
    store.add(d);
    const bye: SipRequest = { ...INVITE, method: 'BYE', headers: [...INVITE.headers.filter((h) => h.name !== 'To'), { name: 'To', value: '<sip:edge@10.0.0.5>;tag=L1' }] };
    expect(store.matchIncoming(bye)).toBe(d);
    const wrongTag: SipRequest = { ...bye, headers: [...INVITE.headers.filter((h) => h.name !== 'To'), { name: 'To', value: '<sip:edge@10.0.0.5>;tag=other' }] };
    expect(store.matchIncoming(wrongTag)).toBeUndefined();
  });

  it('builds in-dialog requests to the remote target through the route set, CSeq rising; ACK reuses the INVITE CSeq', () => {
    const d = new Dialog(init, ENV);
    const first = d.buildRequest({ kind: 'request', method: 'INFO', uri: 'sip:placeholder', headers: [], body: Buffer.alloc(0) }, LOCAL);
    const second = d.buildRequest({ kind: 'request', method: 'BYE', uri: 'sip:placeholder', headers: [], body: Buffer.alloc(0) }, LOCAL);
    expect(first.uri).toBe('sip:a@1.2.3.4:5062');
    expect(getHeader(first, 'Route')).toBe('<sip:p1;lr>');
    expect(getHeader(first, 'From')).toBe('<sip:edge@10.0.0.5>;tag=L1');
    expect(getHeader(first, 'To')).toBe('<sip:a@1.2.3.4>;tag=F1');
    const n1 = Number(getHeader(first, 'CSeq')!.split(' ')[0]);
    expect(getHeader(second, 'CSeq')).toBe(`${n1 + 1} BYE`);
    const ack = d.buildAck({ kind: 'request', method: 'ACK', uri: 'sip:placeholder', headers: [], body: Buffer.alloc(0) }, LOCAL, 'udp');
    expect(getHeader(ack, 'CSeq')).toBe('7 ACK');
    expect(getHeader(ack, 'Via')).toMatch(/^SIP\/2\.0\/UDP 10\.0\.0\.5:5070;rport;branch=z9hG4bK/);
  });

  it("keeps the app's Max-Forwards on an in-dialog request (RFC 7332 3), 70 when it gave none or a bad one", () => {
    const d = new Dialog(init, ENV);
    const info = (mf?: string) =>
      d.buildRequest({ kind: 'request', method: 'INFO', uri: 'sip:placeholder', headers: mf === undefined ? [] : [{ name: 'Max-Forwards', value: mf }], body: Buffer.alloc(0) }, LOCAL);
    expect(getHeader(info('42'), 'Max-Forwards')).toBe('42');
    expect(getHeader(info('0'), 'Max-Forwards')).toBe('0');
    expect(getHeader(info(), 'Max-Forwards')).toBe('70');
    expect(getHeader(info('256'), 'Max-Forwards')).toBe('70');
    expect(getHeader(info('x'), 'Max-Forwards')).toBe('70');
    expect(info('42').headers.filter((h) => h.name.toLowerCase() === 'max-forwards')).toHaveLength(1);
  });

  it("writes the TLS listener's port in the Via of an ACK sent over TLS", () => {
    const d = new Dialog(init, ENV);
    const ack = d.buildAck({ kind: 'request', method: 'ACK', uri: 'sip:placeholder', headers: [], body: Buffer.alloc(0) }, { ...LOCAL, tlsPort: 5071 }, 'tls');
    expect(getHeader(ack, 'Via')).toMatch(/^SIP\/2\.0\/TLS 10\.0\.0\.5:5071;rport;branch=z9hG4bK/);
  });

  it('refuses illegal state moves', () => {
    const d = new Dialog(init, ENV);
    expect(d.transition('confirmed')).toBe(true);
    expect(d.transition('terminated')).toBe(true);
    expect(d.transition('confirmed')).toBe(false);
    expect(d.state).toBe('terminated');
  });
});
