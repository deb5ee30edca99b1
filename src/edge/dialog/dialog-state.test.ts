/** What a dialog owns, alone under the fake clock: its delivery order and its RFC 3262 state. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { DeliveryOrder } from './delivery-order.ts';
import { Dialog, type DialogInit } from './dialog.ts';
import { ReliableProvisionals } from './reliable-provisionals.ts';

describe('DeliveryOrder (docs/edge.md §4.3)', () => {
  it('runs at once while open, queues while held, releases one per settle interval in order', () => {
    const clock = new ManualClock();
    const d = new DeliveryOrder(clock, 10, (e) => {
      throw e;
    });
    const seen: string[] = [];
    d.run(() => seen.push('a'));
    const release = d.hold();
    d.run(() => seen.push('b'));
    d.run(() => seen.push('c'));
    clock.advance(1000);
    expect(seen).toEqual(['a']);
    release(true);
    clock.advance(9);
    expect(seen).toEqual(['a']);
    clock.advance(1);
    expect(seen).toEqual(['a', 'b']);
    clock.advance(10);
    expect(seen).toEqual(['a', 'b', 'c']);
    clock.advance(10);
    expect(d.current).toBe('open');
    d.run(() => seen.push('d'));
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
  });

  it('releases everything at once when the held response was not sent, and survives a failing delivery', () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const d = new DeliveryOrder(clock, 10, (e) => errors.push(e));
    const release = d.hold();
    const seen: string[] = [];
    d.run(() => {
      throw new Error('boom');
    });
    d.run(() => seen.push('after'));
    release(false);
    expect(seen).toEqual(['after']);
    expect(errors).toHaveLength(1);
    expect(d.current).toBe('open');
  });
});

describe('ReliableProvisionals (RFC 3262)', () => {
  it('UAC: passes the first reliable 1xx and the next in order, not a repeat or a gap (§4)', () => {
    const r = new ReliableProvisionals(new ManualClock());
    expect(r.receive(7)).toBe(true);
    expect(r.receive(7)).toBe(false);
    expect(r.receive(9)).toBe(false);
    expect(r.receive(8)).toBe(true);
  });

  it('UAS: one in flight; the next goes after the PRACK of the first; RSeq rises by one', () => {
    const clock = new ManualClock();
    const r = new ReliableProvisionals(clock);
    const sent: string[] = [];
    const sender = { send: (b: Buffer) => sent.push(b.toString()), onTimeout: () => sent.push('timeout') };
    const timers = { t1: 100, t2: 400, timeout: 6400, retransmit: false };
    const first = r.allocate();
    const second = r.allocate();
    expect(second).toBe(first + 1);
    expect(first).toBeGreaterThanOrEqual(1);
    expect(first).toBeLessThan(2 ** 31);
    expect(r.send(first, Buffer.from('180'), false, sender, timers)).toBe(true);
    expect(r.send(second, Buffer.from('183'), true, sender, timers)).toBe(false);
    expect(sent).toEqual(['180']);
    expect(r.prack(second)).toBe(false);
    expect(r.prack(first)).toBe(true);
    expect(sent).toEqual(['180', '183']);
    // a 2xx waits for the PRACK of the 183 (it has a body) ...
    const go: boolean[] = [];
    r.final((ok) => go.push(ok), true);
    expect(go).toEqual([]);
    expect(r.prack(second)).toBe(true);
    expect(go).toEqual([true]);
  });

  it('UAS: a held 2xx is told no when the PRACK never comes', () => {
    const clock = new ManualClock();
    const r = new ReliableProvisionals(clock);
    const events: string[] = [];
    r.send(r.allocate(), Buffer.from('183'), true, { send: () => events.push('send'), onTimeout: () => events.push('timeout') }, { t1: 100, t2: 400, timeout: 6400, retransmit: true });
    r.final((ok) => events.push(`final:${ok}`), true);
    clock.advance(6400);
    // first, then 100, 300, 700 (T1 doubling), then every T2 = 400 up to 6300
    expect(events.filter((e) => e === 'send')).toHaveLength(1 + 3 + 14);
    expect(events.slice(-2)).toEqual(['final:false', 'timeout']);
  });
});

describe('Dialog: a final response and its reliable provisionals (RFC 3262 §3)', () => {
  const init: DialogInit = {
    role: 'uas', callId: 'c1@192.0.2.10', localTag: 'l1', remoteTag: 'r1', localNameAddr: '<sip:outdial@192.0.2.1>;tag=l1',
    remoteNameAddr: '<sip:platform@192.0.2.10>;tag=r1', localCSeq: 1, routeSet: [], remoteTarget: 'sip:platform@192.0.2.10',
    localContact: '<sip:outdial@192.0.2.1>', transport: 'udp', ownerAppId: 'app-1', inviteWireTxnId: 'w1', ackCSeq: 1,
  };
  const timers = { t1: 100, t2: 400, timeout: 6400, retransmit: true };

  it('lets a 2xx go at once when no reliable provisional was ever sent', () => {
    const d = new Dialog(init, { clock: new ManualClock(), onError: () => undefined });
    const go: boolean[] = [];
    d.whenFinalMaySend((ok) => go.push(ok), true);
    expect(go).toEqual([true]);
    expect(() => d.stopReliable()).not.toThrow();
  });

  it('holds a 2xx behind an unacknowledged reliable 183 with a body, and tells it no once the dialog stops', () => {
    const clock = new ManualClock();
    const d = new Dialog(init, { clock, onError: () => undefined });
    const sent: string[] = [];
    d.reliable.send(d.reliable.allocate(), Buffer.from('183'), true, { send: () => sent.push('183'), onTimeout: () => sent.push('timeout') }, timers);
    const go: boolean[] = [];
    d.whenFinalMaySend((ok) => go.push(ok), true);
    expect(go).toEqual([]);
    d.stopReliable();
    expect(go).toEqual([false]);
    clock.advance(10000);
    expect(sent).toEqual(['183']);
  });
});
