import { beforeEach, describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../log/logger.ts';
import { getHeader } from '../sip/message.ts';
import type { SipRequest } from '../sip/message.ts';
import type { Target } from '../sip/transport.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { FakeTransport, flush, UDP_FLOW } from '../../../test/support/fake-transport.ts';
import { TransactionLayer } from './transaction-layer.ts';
import type { ClientTransaction } from './transaction-layer.ts';

const T = { t1: 100, t2: 400, t4: 500 };
const UDP: Target = { transport: 'udp', address: '192.0.2.20', port: 5070 };

function options(): SipRequest {
  return {
    kind: 'request',
    method: 'OPTIONS',
    uri: 'sip:192.0.2.20:5070',
    headers: [
      { name: 'From', value: '<sip:edge@example.org>;tag=o1' },
      { name: 'To', value: '<sip:192.0.2.20>' },
      { name: 'Call-ID', value: 'opt-1' },
      { name: 'CSeq', value: '1 OPTIONS' },
    ],
    body: Buffer.alloc(0),
  };
}

/** Each transaction's Via as sent, read before its final response (after which it keeps only its request line). */
const sentVia = new WeakMap<ClientTransaction, string | undefined>();

function responseTo(txn: ClientTransaction, status: number): string {
  if (!sentVia.has(txn)) sentVia.set(txn, getHeader(txn.request, 'via'));
  return [`SIP/2.0 ${status} X`, `Via: ${sentVia.get(txn)}`, 'From: <sip:edge@example.org>;tag=o1', 'To: <sip:192.0.2.20>;tag=t', 'Call-ID: opt-1', 'CSeq: 1 OPTIONS', '', ''].join('\r\n');
}

describe('non-INVITE client transaction (RFC 3261 17.1.2)', () => {
  let clock: ManualClock;
  let transport: FakeTransport;
  let layer: TransactionLayer;
  let events: string[];

  beforeEach(() => {
    clock = new ManualClock();
    transport = new FakeTransport(clock);
    layer = new TransactionLayer({ transport, timers: T, clock, logger: createCapturingLogger().logger });
    events = [];
  });

  function start(target = UDP): ClientTransaction {
    const txn = layer.sendRequest(options(), target);
    txn.on('response', (r) => events.push(`${r.status}`));
    for (const e of ['timeout', 'transport-error', 'terminated'] as const) txn.on(e, () => events.push(e));
    return txn;
  }

  it('retransmits on Timer E doubling up to T2, then times out on Timer F', () => {
    const txn = start();
    clock.advance(64 * T.t1);
    // E: 100, 200, 400, 400, ... (capped by T2 = 400)
    expect(transport.sent.map((s) => s.at)).toEqual([0, 100, 300, 700, 1100, 1500, 1900, 2300, 2700, 3100, 3500, 3900, 4300, 4700, 5100, 5500, 5900, 6300]);
    expect(events).toEqual(['terminated', 'timeout']);
    expect(txn.state).toBe('terminated');
  });

  it('retransmits every T2 once Proceeding', () => {
    const txn = start();
    clock.advance(50);
    transport.inject(responseTo(txn, 100), UDP_FLOW);
    expect(txn.state).toBe('proceeding');
    clock.advance(1250); // to t=1300
    // E fired at 100 in Proceeding, so it is reset to T2 from then on
    expect(transport.sent.map((s) => s.at)).toEqual([0, 100, 500, 900, 1300]);
  });

  it('does not retransmit over TCP', () => {
    start({ ...UDP, transport: 'tcp' });
    clock.advance(64 * T.t1 - 1);
    expect(transport.sent).toHaveLength(1);
    clock.advance(1);
    expect(events).toEqual(['terminated', 'timeout']);
  });

  it('passes the final response up once and absorbs retransmissions until Timer K', () => {
    const txn = start();
    transport.inject(responseTo(txn, 200), UDP_FLOW);
    transport.inject(responseTo(txn, 200), UDP_FLOW);
    expect(events).toEqual(['200']);
    expect(txn.state).toBe('completed');
    expect(txn.request.headers).toEqual([]); // Completed keeps only the request line
    expect(txn.request.method).toBe('OPTIONS');
    clock.advance(T.t4 - 1);
    expect(txn.state).toBe('completed');
    clock.advance(1);
    expect(txn.state).toBe('terminated');
    expect(transport.sent).toHaveLength(1);
  });

  it('reports a transport failure', async () => {
    transport.failWith = new Error('ECONNREFUSED');
    start();
    await flush();
    expect(events).toEqual(['transport-error', 'terminated']);
  });

  it('cannot be cancelled', () => {
    expect(start().cancel()).toBeUndefined();
  });
});
