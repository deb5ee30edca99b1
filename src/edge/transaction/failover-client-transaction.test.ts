import { beforeEach, describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../log/logger.ts';
import type { SipRequest, SipResponse } from '../sip/message.ts';
import type { Target } from '../sip/transport.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { FakeTransport, flush, UDP_FLOW } from '../../../test/support/fake-transport.ts';
import { TransactionLayer } from './transaction-layer.ts';
import { deriveTimers } from './timers.ts';

const T = { t1: 100, t2: 400, t4: 500 };
const A: Target = { transport: 'udp', address: '192.0.2.31', port: 5060 };
const B: Target = { transport: 'udp', address: '192.0.2.32', port: 5060 };
const C: Target = { transport: 'tcp', address: '192.0.2.33', port: 5060 };

/** Refuses to send to the addresses in refuse (a connection refused, a failed TLS handshake). */
class PickyTransport extends FakeTransport {
  readonly refuse = new Set<string>();
  override send(data: Buffer, target: Target): Promise<void> {
    if (this.refuse.has(target.address)) return Promise.reject(new Error('connection refused'));
    return super.send(data, target);
  }
}

function request(method: string): SipRequest {
  return {
    kind: 'request',
    method,
    uri: 'sip:+15551234567@carrier.test',
    headers: [
      { name: 'From', value: '<sip:e@x>;tag=1' },
      { name: 'To', value: '<sip:+15551234567@carrier.test>' },
      { name: 'Call-ID', value: 'fo-1' },
      { name: 'CSeq', value: `1 ${method}` },
    ],
    body: Buffer.alloc(0),
  };
}

describe('FailoverClientTransaction (RFC 3263 4.3)', () => {
  let clock: ManualClock;
  let transport: PickyTransport;
  let layer: TransactionLayer;

  beforeEach(() => {
    clock = new ManualClock();
    transport = new PickyTransport(clock);
    layer = new TransactionLayer({ transport, timers: T, clock, logger: createCapturingLogger().logger });
  });

  /** Answers the latest request sent to target with status. */
  function answer(target: Target, status: number, toTag = 'c1'): void {
    const sent = [...transport.sent].reverse().find((s) => s.target.address === target.address && s.message.kind === 'request' && s.message.method !== 'ACK');
    if (!sent || sent.message.kind !== 'request') throw new Error(`nothing sent to ${target.address}`);
    const m = sent.message;
    const h = (n: string) => m.headers.find((x) => x.name.toLowerCase() === n)?.value ?? '';
    transport.inject(
      [`SIP/2.0 ${status} X`, `Via: ${h('via')}`, `From: ${h('from')}`, `To: ${h('to')}${status > 100 ? `;tag=${toTag}` : ''}`, `Call-ID: ${h('call-id')}`, `CSeq: ${h('cseq')}`, '', ''].join('\r\n'),
      UDP_FLOW,
    );
  }

  const requestsTo = (t: Target, method = 'INVITE') => transport.sent.filter((s) => s.target.address === t.address && s.message.kind === 'request' && s.message.method === method);

  it('a 503 from the first server sends the request to the next, with a new branch; the TU sees only the second answer', async () => {
    const txn = layer.sendRequest(request('INVITE'), [A, B]);
    const got: number[] = [];
    txn.on('response', (r: SipResponse) => got.push(r.status));
    answer(A, 503);
    expect(requestsTo(B)).toHaveLength(1);
    // the 503 was ACKed by the first attempt (17.1.1.3)
    expect(requestsTo(A, 'ACK')).toHaveLength(1);
    const branch = (t: Target) => /branch=([^;]+)/.exec(requestsTo(t)[0]!.data.toString())?.[1];
    expect(branch(B)).not.toBe(branch(A));
    expect(txn.target).toEqual(B);
    answer(B, 200);
    await flush();
    expect(got).toEqual([200]);
  });

  it('a transaction timeout (Timer B) moves on to the next target', () => {
    const txn = layer.sendRequest(request('INVITE'), [A, B]);
    const events: string[] = [];
    txn.on('timeout', () => events.push('timeout'));
    clock.advance(deriveTimers(T).B);
    expect(requestsTo(B)).toHaveLength(1);
    expect(events).toEqual([]);
    clock.advance(deriveTimers(T).B);
    expect(events).toEqual(['timeout']);
  });

  it('a transport failure moves on at once; when every target failed the TU gets the failure once', async () => {
    transport.refuse.add(A.address).add(C.address);
    const txn = layer.sendRequest(request('OPTIONS'), [A, C]);
    const events: string[] = [];
    txn.on('transport-error', () => events.push('transport-error'));
    txn.on('terminated', () => events.push('terminated'));
    await flush();
    await flush();
    expect(events).toEqual(['transport-error', 'terminated']);
  });

  it('a transport failure to the first target, then an answer from the second', async () => {
    transport.refuse.add(A.address);
    const txn = layer.sendRequest(request('OPTIONS'), [A, B]);
    const got: number[] = [];
    txn.on('response', (r: SipResponse) => got.push(r.status));
    txn.on('transport-error', () => got.push(-1));
    await flush();
    expect(requestsTo(B, 'OPTIONS')).toHaveLength(1);
    answer(B, 200);
    expect(got).toEqual([200]);
  });

  it('does not fail over once a server took the call (a provisional other than 100) or after a CANCEL', async () => {
    const early = layer.sendRequest(request('INVITE'), [A, B]);
    const got: number[] = [];
    early.on('response', (r: SipResponse) => got.push(r.status));
    answer(A, 180);
    answer(A, 503);
    expect(requestsTo(B)).toHaveLength(0);
    expect(got).toEqual([180, 503]);

    transport.sent.length = 0;
    const cancelled = layer.sendRequest({ ...request('INVITE'), headers: request('INVITE').headers.map((h) => (h.name === 'Call-ID' ? { ...h, value: 'fo-2' } : h)) }, [A, B]);
    answer(A, 100);
    expect(cancelled.cancel()).toBeDefined();
    answer(A, 503);
    await flush();
    expect(requestsTo(B)).toHaveLength(0);
  });

  it('the last target answers whatever it answers, 503 included', () => {
    const txn = layer.sendRequest(request('INVITE'), [A, B]);
    const got: number[] = [];
    txn.on('response', (r: SipResponse) => got.push(r.status));
    answer(A, 503);
    answer(B, 503);
    expect(got).toEqual([503]);
  });
});
