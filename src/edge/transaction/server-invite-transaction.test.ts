import { beforeEach, describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../log/logger.ts';
import { getHeader } from '../sip/message.ts';
import type { SipRequest } from '../sip/message.ts';
import { createResponse } from '../sip/response-builder.ts';
import type { Flow } from '../sip/transport.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { FakeTransport, flush, TCP_FLOW, UDP_FLOW } from '../../../test/support/fake-transport.ts';
import { TransactionLayer } from './transaction-layer.ts';
import type { ServerTransaction } from './transaction-layer.ts';

const T = { t1: 100, t2: 400, t4: 500 };
const VIA = 'SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bKinv1';

function inviteText(method = 'INVITE', via = VIA, toTag = ''): string {
  return [
    `${method} sip:+15551234567@192.0.2.10 SIP/2.0`,
    `Via: ${via}`,
    'From: <sip:carol@example.org>;tag=c1',
    `To: <sip:+15551234567@example.com>${toTag}`,
    'Call-ID: in-1',
    `CSeq: 1 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('INVITE server transaction (RFC 3261 17.2.1, RFC 6026)', () => {
  let clock: ManualClock;
  let transport: FakeTransport;
  let layer: TransactionLayer;
  let txn: ServerTransaction | undefined;
  let acks: SipRequest[];
  let events: string[];

  beforeEach(() => {
    clock = new ManualClock();
    transport = new FakeTransport(clock);
    layer = new TransactionLayer({ transport, timers: T, clock, logger: createCapturingLogger().logger });
    txn = undefined;
    acks = [];
    events = [];
    layer.on('request', (req, t) => {
      if (req.method === 'ACK') acks.push(req);
      else {
        txn = t;
        for (const e of ['timeout', 'transport-error', 'terminated'] as const) t?.on(e, () => events.push(e));
      }
    });
  });

  function receive(flow: Flow = UDP_FLOW): ServerTransaction {
    transport.inject(inviteText(), flow);
    if (!txn) throw new Error('no transaction');
    return txn;
  }

  it('sends 100 Trying at once and answers a retransmitted INVITE with the last provisional', async () => {
    const t = receive();
    expect(t.state).toBe('proceeding');
    expect(transport.summary()).toEqual(['100']);
    const trying = transport.sent[0]!.message;
    // sent-by equals the source address, so no received= is added (18.2.1)
    expect(getHeader(trying, 'via')).toBe(VIA);
    expect(getHeader(trying, 'to')).toBe('<sip:+15551234567@example.com>');
    transport.inject(inviteText(), UDP_FLOW);
    expect(transport.summary()).toEqual(['100', '100']);
    await t.respond(createResponse(t.request, 180, undefined, 'u1'));
    transport.inject(inviteText(), UDP_FLOW);
    expect(transport.summary()).toEqual(['100', '100', '180', '180']);
  });

  it('sends responses to sent-by (no rport) and to the source port when rport was asked for', () => {
    receive();
    expect(transport.sent[0]?.target).toEqual({ transport: 'udp', address: '192.0.2.20', port: 5070 });
    transport.inject(inviteText('INVITE', 'SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bKnat'), { ...UDP_FLOW, remotePort: 34567 });
    const last = transport.sent.at(-1)!;
    expect(last.target).toEqual({ transport: 'udp', address: '192.0.2.20', port: 34567 });
    expect(getHeader(last.message, 'via')).toBe('SIP/2.0/UDP 10.1.1.1:5060;rport=34567;branch=z9hG4bKnat;received=192.0.2.20');
  });

  it('retransmits a non-2xx final on Timer G (doubling to T2) until ACK, which is absorbed (Confirmed, Timer I)', async () => {
    const t = receive();
    await t.respond(createResponse(t.request, 486, undefined, 'u1'));
    expect(t.state).toBe('completed');
    clock.advance(1500);
    expect(transport.sent.filter((s) => s.message.kind === 'response' && s.message.status === 486).map((s) => s.at)).toEqual([0, 100, 300, 700, 1100, 1500]);
    transport.inject(inviteText(), UDP_FLOW); // retransmitted INVITE → the final again
    expect(transport.summary().at(-1)).toBe('486');
    transport.inject(inviteText('ACK', VIA, ';tag=u1'), UDP_FLOW);
    expect(t.state).toBe('confirmed');
    expect(acks).toEqual([]);
    const count = transport.sent.length;
    clock.advance(T.t4 - 1);
    expect(transport.sent.length).toBe(count);
    transport.inject(inviteText('ACK', VIA, ';tag=u1'), UDP_FLOW); // ACK retransmission, absorbed too
    expect(acks).toEqual([]);
    clock.advance(1);
    expect(t.state).toBe('terminated');
    expect(events).toEqual(['terminated']);
  });

  it('gives up on Timer H without an ACK and reports a timeout', async () => {
    const t = receive();
    await t.respond(createResponse(t.request, 480, undefined, 'u1'));
    clock.advance(64 * T.t1);
    expect(t.state).toBe('terminated');
    expect(events).toEqual(['terminated', 'timeout']);
  });

  it('over TCP: no Timer G, Timer I is 0', async () => {
    const t = receive(TCP_FLOW);
    expect(transport.sent[0]?.target).toEqual({ transport: 'tcp', address: '192.0.2.20', port: 40000 });
    await t.respond(createResponse(t.request, 486, undefined, 'u1'));
    clock.advance(10 * T.t1);
    expect(transport.summary()).toEqual(['100', '486']);
    transport.inject(inviteText('ACK', VIA, ';tag=u1'), TCP_FLOW);
    clock.advance(0);
    expect(t.state).toBe('terminated');
  });

  it('moves to Accepted on 2xx: absorbs retransmitted INVITEs, passes ACKs up, allows 2xx retransmits, refuses other finals', async () => {
    const t = receive();
    await t.respond(createResponse(t.request, 200, undefined, 'u1'));
    expect(t.state).toBe('accepted');
    transport.inject(inviteText(), UDP_FLOW);
    expect(transport.summary()).toEqual(['100', '200']);
    await t.respond(createResponse(t.request, 200, undefined, 'u1'));
    await expect(t.respond(createResponse(t.request, 486, undefined, 'u1'))).rejects.toThrow(/state accepted/);
    // an ACK for the 2xx with the INVITE's branch (RFC 6026 7.1) still reaches the TU
    transport.inject(inviteText('ACK', VIA, ';tag=u1'), UDP_FLOW);
    expect(acks).toHaveLength(1);
    clock.advance(64 * T.t1);
    expect(t.state).toBe('terminated');
  });

  it('refuses a second final response after a non-2xx', async () => {
    const t = receive();
    await t.respond(createResponse(t.request, 487, undefined, 'u1'));
    await expect(t.respond(createResponse(t.request, 200, undefined, 'u1'))).rejects.toThrow(/state completed/);
  });

  it('reports a transport failure while responding', async () => {
    const t = receive();
    transport.failWith = new Error('EPIPE');
    await expect(t.respond(createResponse(t.request, 180))).rejects.toThrow('EPIPE');
    await flush();
    expect(events).toEqual(['transport-error', 'terminated']);
  });
});
