import { beforeEach, describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../log/logger.ts';
import { getHeader, getHeaders } from '../sip/message.ts';
import type { SipRequest, SipResponse } from '../sip/message.ts';
import type { Target } from '../sip/transport.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { FakeTransport, flush, UDP_FLOW } from '../../../test/support/fake-transport.ts';
import { TransactionLayer } from './transaction-layer.ts';
import type { ClientTransaction } from './transaction-layer.ts';

const T = { t1: 100, t2: 400, t4: 500 };
const UDP: Target = { transport: 'udp', address: '192.0.2.20', port: 5070 };
const TCP: Target = { transport: 'tcp', address: '192.0.2.20', port: 5070 };

function invite(): SipRequest {
  return {
    kind: 'request',
    method: 'INVITE',
    uri: 'sip:+15551234567@192.0.2.20:5070',
    headers: [
      { name: 'Route', value: '<sip:proxy.example.com;lr>' },
      { name: 'From', value: '<sip:alice@example.org>;tag=abc' },
      { name: 'To', value: '<sip:+15551234567@example.com>' },
      { name: 'Call-ID', value: 'call-1' },
      { name: 'CSeq', value: '7 INVITE' },
      { name: 'Contact', value: '<sip:alice@192.0.2.10>' },
    ],
    body: Buffer.from('v=0\r\n'),
  };
}

/** Each transaction's Via as sent, read before its final response (after which it keeps only its request line). */
const sentVia = new WeakMap<ClientTransaction, string | undefined>();

function responseTo(txn: ClientTransaction, status: number, toTag = 'bob1', method = 'INVITE'): string {
  if (!sentVia.has(txn)) sentVia.set(txn, getHeader(txn.request, 'via'));
  const via = sentVia.get(txn);
  return [
    `SIP/2.0 ${status} Whatever`,
    `Via: ${via}`,
    'From: <sip:alice@example.org>;tag=abc',
    `To: <sip:+15551234567@example.com>${status > 100 ? `;tag=${toTag}` : ''}`,
    'Call-ID: call-1',
    `CSeq: 7 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('INVITE client transaction (RFC 3261 17.1.1, RFC 6026)', () => {
  let clock: ManualClock;
  let transport: FakeTransport;
  let layer: TransactionLayer;
  let responses: SipResponse[];
  let events: string[];

  beforeEach(() => {
    clock = new ManualClock();
    transport = new FakeTransport(clock);
    layer = new TransactionLayer({ transport, timers: T, clock, logger: createCapturingLogger().logger });
    responses = [];
    events = [];
  });

  function start(target = UDP): ClientTransaction {
    const txn = layer.sendRequest(invite(), target);
    txn.on('response', (r) => responses.push(r));
    for (const e of ['timeout', 'transport-error', 'terminated'] as const) txn.on(e, () => events.push(e));
    return txn;
  }

  it('adds a Via with rport and a magic-cookie branch, and Max-Forwards', () => {
    const txn = start();
    const via = getHeader(txn.request, 'via') ?? '';
    expect(via).toMatch(/^SIP\/2\.0\/UDP 192\.0\.2\.10:5060;rport;branch=z9hG4bK[0-9a-f]{24}$/);
    expect(getHeader(txn.request, 'max-forwards')).toBe('70');
    expect(transport.sent[0]?.data).toEqual(txn.sent);
    expect(txn.state).toBe('calling');
  });

  it('retransmits on Timer A at T1, 2T1, 4T1... over UDP and times out at 64*T1 (Timer B)', () => {
    start();
    clock.advance(64 * T.t1);
    expect(transport.sent.map((s) => s.at)).toEqual([0, 100, 300, 700, 1500, 3100, 6300]); // 7 transmissions, as 17.1.1.2 says
    expect(events).toEqual(['terminated', 'timeout']);
  });

  it('does not retransmit over TCP but still times out', () => {
    start(TCP);
    clock.advance(64 * T.t1 - 1);
    expect(transport.sent).toHaveLength(1);
    expect(events).toEqual([]);
    clock.advance(1);
    expect(events).toEqual(['terminated', 'timeout']);
  });

  it('stops retransmitting and ignores Timer B after a provisional', () => {
    const txn = start();
    clock.advance(150);
    transport.inject(responseTo(txn, 180), UDP_FLOW);
    expect(txn.state).toBe('proceeding');
    clock.advance(100 * T.t1);
    expect(transport.sent).toHaveLength(2);
    expect(events).toEqual([]);
    expect(responses.map((r) => r.status)).toEqual([180]);
  });

  it('ACKs a non-2xx final response per 17.1.1.3 and absorbs its retransmissions', () => {
    const txn = start();
    transport.inject(responseTo(txn, 100), UDP_FLOW);
    transport.inject(responseTo(txn, 486, 'busy'), UDP_FLOW);
    expect(txn.state).toBe('completed');
    const ack = transport.sent[1]?.message as SipRequest;
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe('sip:+15551234567@192.0.2.20:5070');
    expect(getHeaders(ack, 'via')).toEqual([getHeader(transport.sent[0]!.message as SipRequest, 'via')]);
    expect(getHeader(ack, 'to')).toBe('<sip:+15551234567@example.com>;tag=busy');
    expect(getHeader(ack, 'from')).toBe('<sip:alice@example.org>;tag=abc');
    expect(getHeader(ack, 'call-id')).toBe('call-1');
    expect(getHeader(ack, 'cseq')).toBe('7 ACK');
    expect(getHeaders(ack, 'route')).toEqual(['<sip:proxy.example.com;lr>']);
    expect(ack.body.length).toBe(0);

    transport.inject(responseTo(txn, 486, 'busy'), UDP_FLOW);
    expect(transport.summary()).toEqual(['INVITE', 'ACK', 'ACK']);
    expect(responses.map((r) => r.status)).toEqual([100, 486]);
    clock.advance(64 * T.t1 - 1);
    expect(txn.state).toBe('completed');
    clock.advance(1); // Timer D
    expect(txn.state).toBe('terminated');
    expect(events).toEqual(['terminated']);
  });

  it('leaves Completed at once over TCP (Timer D = 0)', () => {
    const txn = start(TCP);
    transport.inject(responseTo(txn, 503), { ...UDP_FLOW, transport: 'tcp' });
    clock.advance(0);
    expect(txn.state).toBe('terminated');
  });

  it('passes every retransmitted 2xx up while Accepted, then terminates after Timer M', () => {
    const txn = start();
    transport.inject(responseTo(txn, 200), UDP_FLOW);
    expect(txn.state).toBe('accepted');
    transport.inject(responseTo(txn, 200), UDP_FLOW);
    transport.inject(responseTo(txn, 486), UDP_FLOW); // discarded in Accepted
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(transport.summary()).toEqual(['INVITE']); // the TU ACKs a 2xx, not the transaction
    // Accepted keeps only the request line: nothing answers a client transaction
    expect(txn.request).toMatchObject({ method: 'INVITE', uri: 'sip:+15551234567@192.0.2.20:5070', headers: [] });
    clock.advance(64 * T.t1);
    expect(txn.state).toBe('terminated');
    const stray: number[] = [];
    layer.on('stray-response', (r) => stray.push(r.status));
    transport.inject(responseTo(txn, 200), UDP_FLOW);
    expect(stray).toEqual([200]);
  });

  it('reports a transport failure', async () => {
    transport.failWith = new Error('EHOSTUNREACH');
    const txn = start();
    await flush();
    expect(events).toEqual(['transport-error', 'terminated']);
    expect(txn.state).toBe('terminated');
  });

  describe('cancel() (RFC 3261 9.1)', () => {
    it('defers the CANCEL until a provisional response arrives', () => {
      const txn = start();
      const cancel = txn.cancel();
      expect(cancel?.method).toBe('CANCEL');
      expect(transport.summary()).toEqual(['INVITE']);
      transport.inject(responseTo(txn, 180), UDP_FLOW);
      expect(transport.summary()).toEqual(['INVITE', 'CANCEL']);
      const sent = transport.sent[1]?.message as SipRequest;
      expect(sent.uri).toBe(txn.request.uri);
      expect(getHeaders(sent, 'via')).toEqual([getHeader(txn.request, 'via')]);
      expect(getHeader(sent, 'cseq')).toBe('7 CANCEL');
      expect(getHeader(sent, 'to')).toBe('<sip:+15551234567@example.com>');
      expect(getHeaders(sent, 'route')).toEqual(['<sip:proxy.example.com;lr>']);
      expect(txn.cancelTransaction?.method).toBe('CANCEL');
      // the CANCEL's 200 goes to its own transaction, the 487 to the INVITE's
      const cancelResponses: number[] = [];
      txn.cancelTransaction?.on('response', (r) => cancelResponses.push(r.status));
      transport.inject(responseTo(txn, 200, 'bob1', 'CANCEL'), UDP_FLOW);
      transport.inject(responseTo(txn, 487), UDP_FLOW);
      expect(cancelResponses).toEqual([200]);
      expect(responses.map((r) => r.status)).toEqual([180, 487]);
      expect(transport.summary()).toEqual(['INVITE', 'CANCEL', 'ACK']);
    });

    it('sends at once when a provisional was already received, only once', () => {
      const txn = start();
      transport.inject(responseTo(txn, 100), UDP_FLOW);
      const a = txn.cancel();
      const b = txn.cancel();
      expect(a).toBe(b);
      expect(transport.summary()).toEqual(['INVITE', 'CANCEL']);
    });

    it('carries extra headers such as Reason (RFC 3326) but never lets them replace the 9.1 headers', () => {
      const txn = start();
      transport.inject(responseTo(txn, 180), UDP_FLOW);
      txn.cancel([
        { name: 'Reason', value: 'SIP;cause=200;text="Call completed elsewhere"' },
        { name: 'X-Why', value: 'failover' },
        { name: 'Call-ID', value: 'forged' },
        { name: 'CSeq', value: '99 CANCEL' },
        { name: 'Via', value: 'SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKforged' },
      ]);
      const sent = transport.sent[1]?.message as SipRequest;
      expect(sent.method).toBe('CANCEL');
      expect(getHeader(sent, 'reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
      expect(getHeader(sent, 'x-why')).toBe('failover');
      expect(getHeaders(sent, 'call-id')).toEqual(['call-1']);
      expect(getHeaders(sent, 'cseq')).toEqual(['7 CANCEL']);
      expect(getHeaders(sent, 'via')).toEqual([getHeader(txn.request, 'via')]);
    });
    it('does nothing once a final response arrived', () => {
      const txn = start();
      transport.inject(responseTo(txn, 200), UDP_FLOW);
      expect(txn.cancel()).toBeUndefined();
      expect(transport.summary()).toEqual(['INVITE']);
    });

    it('drops a deferred CANCEL when a final response comes first', () => {
      const txn = start();
      txn.cancel();
      transport.inject(responseTo(txn, 603), UDP_FLOW);
      expect(transport.summary()).toEqual(['INVITE', 'ACK']);
    });
  });
});
