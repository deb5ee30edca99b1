import { beforeEach, describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../log/logger.ts';
import type { SipRequest } from '../sip/message.ts';
import { createResponse } from '../sip/response-builder.ts';
import { SipTransport } from '../sip/transport.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { FakeTransport, TCP_FLOW, UDP_FLOW } from '../../../test/support/fake-transport.ts';
import { TransactionLayer } from './transaction-layer.ts';
import type { ServerTransaction, TransportPort } from './transaction-layer.ts';
import { deriveTimers } from './timers.ts';

const T = { t1: 100, t2: 400, t4: 500 };

function req(method: string, branch: string, opts: { sentBy?: string; cseqMethod?: string } = {}): string {
  return [
    `${method} sip:x@192.0.2.10 SIP/2.0`,
    `Via: SIP/2.0/UDP ${opts.sentBy ?? '192.0.2.20:5070'};branch=${branch}`,
    'From: <sip:a@example.org>;tag=f1',
    'To: <sip:x@example.com>',
    'Call-ID: m-1',
    `CSeq: 1 ${opts.cseqMethod ?? method}`,
    '',
    '',
  ].join('\r\n');
}

describe('TransactionLayer matching (RFC 3261 17.1.3, 17.2.3)', () => {
  let clock: ManualClock;
  let transport: FakeTransport;
  let layer: TransactionLayer;
  let seen: Array<{ method: string; txn: ServerTransaction | undefined }>;
  let cancels: Array<{ cancelTxn: ServerTransaction; inviteTxn: ServerTransaction | undefined }>;

  beforeEach(() => {
    clock = new ManualClock();
    transport = new FakeTransport(clock);
    layer = new TransactionLayer({ transport, timers: T, clock, logger: createCapturingLogger().logger });
    seen = [];
    cancels = [];
    layer.on('request', (r: SipRequest, txn) => seen.push({ method: r.method, txn }));
    layer.on('cancel', (_c, cancelTxn, inviteTxn) => cancels.push({ cancelTxn, inviteTxn }));
  });

  it('treats the same branch from another sent-by as a different transaction', () => {
    transport.inject(req('OPTIONS', 'z9hG4bKsame'), UDP_FLOW);
    transport.inject(req('OPTIONS', 'z9hG4bKsame', { sentBy: '192.0.2.30:5060' }), UDP_FLOW);
    expect(seen).toHaveLength(2);
    expect(seen[0]?.txn).not.toBe(seen[1]?.txn);
  });

  it('matches a CANCEL to the INVITE it cancels, as a transaction of its own', () => {
    transport.inject(req('INVITE', 'z9hG4bKinv'), UDP_FLOW);
    transport.inject(req('CANCEL', 'z9hG4bKinv'), UDP_FLOW);
    expect(seen.map((s) => s.method)).toEqual(['INVITE']);
    expect(cancels).toHaveLength(1);
    expect(cancels[0]?.inviteTxn).toBe(seen[0]?.txn);
    expect(cancels[0]?.cancelTxn.method).toBe('CANCEL');
    // a retransmitted CANCEL is absorbed by the CANCEL transaction
    transport.inject(req('CANCEL', 'z9hG4bKinv'), UDP_FLOW);
    expect(cancels).toHaveLength(1);
  });

  it('reports a CANCEL matching no INVITE with inviteTxn undefined', () => {
    transport.inject(req('CANCEL', 'z9hG4bKnone'), UDP_FLOW);
    expect(cancels[0]?.inviteTxn).toBeUndefined();
  });

  it('passes up an ACK that matches no transaction (ACK for a 2xx) without a transaction', () => {
    transport.inject(req('ACK', 'z9hG4bKack2xx'), UDP_FLOW);
    expect(seen).toEqual([{ method: 'ACK', txn: undefined }]);
  });

  it('matches requests from RFC 2543 clients (no magic cookie) by dialog fields', () => {
    transport.inject(req('INVITE', 'old1'), UDP_FLOW);
    transport.inject(req('INVITE', 'old1'), UDP_FLOW);
    expect(seen).toHaveLength(1);
    expect(transport.summary()).toEqual(['100', '100']);
  });

  it('matches responses by branch and CSeq method, and reports the rest as stray', () => {
    const stray: number[] = [];
    layer.on('stray-response', (r) => stray.push(r.status));
    const txn = layer.sendRequest(
      { kind: 'request', method: 'OPTIONS', uri: 'sip:192.0.2.20', headers: [{ name: 'From', value: '<sip:e@x>;tag=1' }, { name: 'To', value: '<sip:y@x>' }, { name: 'Call-ID', value: 'c' }, { name: 'CSeq', value: '1 OPTIONS' }], body: Buffer.alloc(0) },
      { transport: 'udp', address: '192.0.2.20', port: 5060 },
    );
    const got: number[] = [];
    txn.on('response', (r) => got.push(r.status));
    const branch = /branch=([^;]+)/.exec(txn.sent.toString())?.[1] ?? '';
    const res = (status: number, method: string, b = branch): string =>
      [`SIP/2.0 ${status} X`, `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=${b}`, 'From: <sip:e@x>;tag=1', 'To: <sip:y@x>;tag=2', 'Call-ID: c', `CSeq: 1 ${method}`, '', ''].join('\r\n');
    transport.inject(res(200, 'INFO'), UDP_FLOW); // same branch, other method
    transport.inject(res(200, 'OPTIONS', 'z9hG4bKother'), UDP_FLOW);
    transport.inject(res(200, 'OPTIONS'), UDP_FLOW);
    expect(got).toEqual([200]);
    expect(stray).toEqual([200, 200]);
  });

  it('computes response targets per RFC 3261 18.2.2 and RFC 3581: the source address, never a claimed one', () => {
    const parse = (via: string): SipRequest => ({ kind: 'request', method: 'OPTIONS', uri: 'sip:x', headers: [{ name: 'Via', value: via }], body: Buffer.alloc(0) });
    expect(layer.responseTarget(parse('SIP/2.0/TCP h.example.com;branch=z9hG4bK1'), TCP_FLOW)).toEqual({ transport: 'tcp', address: '192.0.2.20', port: 40000 });
    expect(layer.responseTarget(parse('SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK1'), UDP_FLOW)).toEqual({ transport: 'udp', address: '192.0.2.20', port: 5060 });
    // a sent-by host elsewhere, or a received= the sender wrote, does not move the answer away from the source
    expect(layer.responseTarget(parse('SIP/2.0/UDP h.example.com:5080;branch=z9hG4bK1;received=198.51.100.1'), UDP_FLOW)).toEqual({ transport: 'udp', address: '192.0.2.20', port: 5080 });
    expect(layer.responseTarget(parse('SIP/2.0/UDP 10.0.0.1:5080;rport=4000;received=198.51.100.1'), UDP_FLOW)).toEqual({ transport: 'udp', address: '192.0.2.20', port: 5070 });
    expect(layer.responseTarget(parse('SIP/2.0/UDP 10.0.0.1:5080;maddr=198.51.100.9;branch=z9hG4bK1'), UDP_FLOW)).toEqual({ transport: 'udp', address: '192.0.2.20', port: 5080 });
    expect(layer.responseTarget(parse('not a via'), UDP_FLOW)).toEqual({ transport: 'udp', address: '192.0.2.20', port: 5070 });
  });

  it.each([
    ['a forged received is replaced by the source', 'SIP/2.0/UDP 10.0.0.1:5080;branch=z9hG4bK1;received=198.51.100.1', 'SIP/2.0/UDP 10.0.0.1:5080;branch=z9hG4bK1;received=192.0.2.20'],
    ['a forged received is dropped when sent-by is the source', 'SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bK1;received=198.51.100.1', 'SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bK1'],
    ['an empty rport gets the source port and received (RFC 3581 4)', 'SIP/2.0/UDP 192.0.2.20:5070;rport;branch=z9hG4bK1', 'SIP/2.0/UDP 192.0.2.20:5070;rport=5070;branch=z9hG4bK1;received=192.0.2.20'],
    ['an rport value the sender wrote is overwritten', 'SIP/2.0/UDP 10.0.0.1;rport=9;branch=z9hG4bK1', 'SIP/2.0/UDP 10.0.0.1;rport=5070;branch=z9hG4bK1;received=192.0.2.20'],
  ])('stamps the top Via: %s', (_what, via, stamped) => {
    transport.inject(req('OPTIONS', 'z9hG4bK1').replace(/^Via: .*$/m, `Via: ${via}`), UDP_FLOW);
    expect(seen).toHaveLength(1);
    const txn = seen[0]?.txn;
    expect(txn?.request.headers.find((h) => h.name === 'Via')?.value).toBe(stamped);
  });

  it('close() clears every timer, a lingering transaction\'s too', async () => {
    transport.inject(req('OPTIONS', 'z9hG4bKc0'), UDP_FLOW);
    await seen[0]?.txn?.respond(createResponse(seen[0].txn.request, 200));
    expect(layer.size.lingering).toBe(1);
    transport.inject(req('INVITE', 'z9hG4bKc1'), UDP_FLOW);
    layer.sendRequest(
      { kind: 'request', method: 'INVITE', uri: 'sip:x@192.0.2.20', headers: [{ name: 'From', value: '<sip:e@x>;tag=1' }, { name: 'To', value: '<sip:y@x>' }, { name: 'Call-ID', value: 'c2' }, { name: 'CSeq', value: '1 INVITE' }], body: Buffer.alloc(0) },
      { transport: 'udp', address: '192.0.2.20', port: 5060 },
    );
    expect(clock.armed).toBeGreaterThan(0);
    layer.close();
    expect(clock.armed).toBe(0);
    expect(layer.size).toEqual({ clients: 0, servers: 0, lingering: 0 });
  });

  it('accepts the real SipTransport as its transport', () => {
    const real: TransportPort = new SipTransport({ host: '127.0.0.1', port: 0, maxMessageBytes: 1000, logger: createCapturingLogger().logger });
    expect(typeof real.send).toBe('function');
  });
});

describe('deriveTimers', () => {
  it('derives RFC 3261 Table 4 values from T1, T2 and T4', () => {
    expect(deriveTimers({ t1: 500, t2: 4000, t4: 5000 })).toEqual({
      T1: 500, T2: 4000, T4: 5000, A: 500, B: 32000, D: 32000, E: 500, F: 32000, G: 500, H: 32000, I: 5000, J: 32000, K: 5000, L: 32000, M: 32000,
    });
  });
});
