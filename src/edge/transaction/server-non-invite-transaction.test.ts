import { beforeEach, describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../log/logger.ts';
import { createResponse } from '../sip/response-builder.ts';
import type { Flow } from '../sip/transport.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { FakeTransport, TCP_FLOW, UDP_FLOW } from '../../../test/support/fake-transport.ts';
import { TransactionLayer } from './transaction-layer.ts';
import type { ServerTransaction } from './transaction-layer.ts';

const T = { t1: 100, t2: 400, t4: 500 };

const BYE = [
  'BYE sip:edge@192.0.2.10 SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bKbye1',
  'From: <sip:carol@example.org>;tag=c1',
  'To: <sip:edge@example.com>;tag=u1',
  'Call-ID: in-1',
  'CSeq: 2 BYE',
  '',
  '',
].join('\r\n');

describe('non-INVITE server transaction (RFC 3261 17.2.2)', () => {
  let clock: ManualClock;
  let transport: FakeTransport;
  let layer: TransactionLayer;
  let txns: ServerTransaction[];

  beforeEach(() => {
    clock = new ManualClock();
    transport = new FakeTransport(clock);
    layer = new TransactionLayer({ transport, timers: T, clock, logger: createCapturingLogger().logger });
    txns = [];
    layer.on('request', (_req, t) => {
      if (t) txns.push(t);
    });
  });

  function receive(flow: Flow = UDP_FLOW): ServerTransaction {
    transport.inject(BYE, flow);
    const t = txns[0];
    if (!t) throw new Error('no transaction');
    return t;
  }

  it('sends nothing by itself and drops retransmissions while Trying', () => {
    const t = receive();
    transport.inject(BYE, UDP_FLOW);
    expect(txns).toHaveLength(1);
    expect(transport.sent).toHaveLength(0);
    expect(t.state).toBe('trying');
  });

  it('answers a retransmission with the last provisional in Proceeding and the final in Completed', async () => {
    const t = receive();
    await t.respond(createResponse(t.request, 100));
    expect(t.state).toBe('proceeding');
    transport.inject(BYE, UDP_FLOW);
    await t.respond(createResponse(t.request, 200));
    transport.inject(BYE, UDP_FLOW);
    expect(transport.summary()).toEqual(['100', '100', '200', '200']);
    expect(txns).toHaveLength(1);
  });

  it('stays Completed for Timer J (64*T1) over UDP, then a repeat is a new request', async () => {
    const t = receive();
    await t.respond(createResponse(t.request, 200));
    clock.advance(64 * T.t1 - 1);
    expect(t.state).toBe('completed');
    clock.advance(1);
    expect(t.state).toBe('terminated');
    transport.inject(BYE, UDP_FLOW);
    expect(txns).toHaveLength(2);
  });

  it('terminates at once over TCP (Timer J = 0)', async () => {
    const t = receive(TCP_FLOW);
    await t.respond(createResponse(t.request, 200));
    clock.advance(0);
    expect(t.state).toBe('terminated');
  });

  it('refuses a second final response', async () => {
    const t = receive();
    await t.respond(createResponse(t.request, 200));
    await expect(t.respond(createResponse(t.request, 500))).rejects.toThrow(/state completed/);
  });
});
