import { describe, expect, it } from 'vitest';
import type { Target } from '../sip/transport.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { Uas2xxRetransmitter } from './uas-2xx-retransmitter.ts';

const T = { t1: 100, t2: 400, t4: 500 };
const TARGET: Target = { transport: 'udp', address: '192.0.2.20', port: 5070 };

function setup(target: Target = TARGET): { clock: ManualClock; sentAt: number[]; timeouts: number[]; r: Uas2xxRetransmitter } {
  const clock = new ManualClock();
  const sentAt: number[] = [];
  const timeouts: number[] = [];
  const layer = {
    sendRaw: (_d: Buffer, _t: Target): Promise<void> => {
      sentAt.push(clock.now());
      return Promise.resolve();
    },
  };
  const r = new Uas2xxRetransmitter({ layer, response: Buffer.from('SIP/2.0 200 OK\r\n\r\n'), target, timers: T, clock, onTimeout: () => timeouts.push(clock.now()) });
  return { clock, sentAt, timeouts, r };
}

describe('Uas2xxRetransmitter (RFC 3261 13.3.1.4)', () => {
  it('retransmits at T1 doubling to T2 and gives up after 64*T1', () => {
    const { clock, sentAt, timeouts } = setup();
    clock.advance(64 * T.t1 + 1000);
    expect(sentAt.slice(0, 6)).toEqual([100, 300, 700, 1100, 1500, 1900]);
    expect(sentAt.every((t) => t < 6400)).toBe(true);
    expect(timeouts).toEqual([6400]);
    expect(clock.armed).toBe(0);
  });

  it('sends nothing more over TCP but still ends the dialog after Timer H (drachtio-server: Timer G only when dgram)', () => {
    const { clock, sentAt, timeouts } = setup({ ...TARGET, transport: 'tcp' });
    clock.advance(64 * T.t1 - 1);
    expect(sentAt).toEqual([]);
    expect(timeouts).toEqual([]);
    clock.advance(1);
    expect(timeouts).toEqual([6400]);
    expect(clock.armed).toBe(0);
  });

  it('stops when the ACK arrives', () => {
    const { clock, sentAt, timeouts, r } = setup();
    clock.advance(350);
    r.ackReceived();
    clock.advance(64 * T.t1);
    expect(sentAt).toEqual([100, 300]);
    expect(timeouts).toEqual([]);
    expect(r.active).toBe(false);
  });
});
