import { describe, expect, it } from 'vitest';
import { FakeInviter, FakeLeg, settle } from '../../test/support/fake-srf.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { createLogger } from '../log/logger.ts';
import { CarrierAttempt, type AttemptState } from './carrier-attempt.ts';
import type { ProvisionalResponse } from './srf-adapter.ts';

const CONNECT_TIMEOUT_MS = 4000;

function start() {
  const clock = new ManualClock();
  const inviter = new FakeInviter();
  const seen: Array<{ status: number; reason: string; state: AttemptState }> = [];
  const attempt = new CarrierAttempt(
    { inviter, clock, connectTimeoutMs: CONNECT_TIMEOUT_MS, logger: createLogger('silent') },
    { uri: 'sip:+15551234567@carrier.example.com', headers: { 'Max-Forwards': '69' }, sdp: 'v=0\r\n', callingNumber: '+15550001111' },
    (res: ProvisionalResponse, state) => seen.push({ status: res.status, reason: res.reason, state }),
  );
  return { clock, inviter, placed: inviter.last, attempt, seen };
}

describe('carrier attempt state machine', () => {
  it('sends the INVITE it was given', () => {
    const { placed, attempt } = start();
    expect(placed.invite).toEqual({
      uri: 'sip:+15551234567@carrier.example.com',
      headers: { 'Max-Forwards': '69' },
      sdp: 'v=0\r\n',
      callingNumber: '+15550001111',
    });
    expect(attempt.state).toBe('sent');
  });

  it('sent → timed-out after the connect timeout: CANCEL, outcome timed-out', async () => {
    const { clock, placed, attempt } = start();
    placed.sent();
    placed.provisional(100, 'Trying'); // hop-by-hop: the timer keeps running
    clock.advance(CONNECT_TIMEOUT_MS - 1);
    expect(attempt.state).toBe('sent');
    clock.advance(1);
    expect(attempt.state).toBe('timed-out');
    expect(placed.cancels).toBe(1);
    await expect(attempt.outcome).resolves.toEqual({ kind: 'timed-out' });
    // the carrier's 487 for that CANCEL changes nothing
    placed.fail(487, 'Request Terminated');
    await settle();
    expect(attempt.state).toBe('timed-out');
  });

  it('sends the CANCEL once the stack echoed an INVITE that timed out before the echo', () => {
    const { clock, placed, attempt } = start();
    clock.advance(CONNECT_TIMEOUT_MS);
    expect(attempt.state).toBe('timed-out');
    expect(placed.cancels).toBe(0);
    placed.sent();
    expect(placed.cancels).toBe(1);
  });

  it('sent → ringing on a 180: the connect timer stops, the provisional is reported with its phrase', () => {
    const { clock, placed, attempt, seen } = start();
    placed.sent();
    placed.provisional(180, 'Ringing Now');
    expect(attempt.state).toBe('ringing');
    expect(seen).toEqual([{ status: 180, reason: 'Ringing Now', state: 'ringing' }]);
    clock.advance(CONNECT_TIMEOUT_MS * 10);
    expect(attempt.state).toBe('ringing');
    expect(clock.armed).toBe(0);
  });

  it('ringing → early on a 183 with SDP; a later 180 keeps it early; a failure then is marked early', async () => {
    const { placed, attempt, seen } = start();
    placed.sent();
    placed.provisional(180, 'Ringing');
    placed.provisional(183, 'Session Progress', 'v=0\r\n');
    placed.provisional(180, 'Ringing');
    expect(seen.map((s) => s.state)).toEqual(['ringing', 'early', 'early']);
    placed.fail(503, 'Overloaded', { 'Retry-After': '30' });
    const outcome = await attempt.outcome;
    expect(outcome).toMatchObject({ kind: 'failed', status: 503, reason: 'Overloaded', early: true, notSent: false });
    expect(outcome.kind === 'failed' && outcome.response?.get('Retry-After')).toBe('30');
    expect(attempt.state).toBe('failed');
  });

  it('sent → failed on a final non-2xx, with the carrier reason phrase', async () => {
    const { placed, attempt, clock } = start();
    placed.sent();
    placed.fail(486, 'Rejected');
    await expect(attempt.outcome).resolves.toMatchObject({ kind: 'failed', status: 486, reason: 'Rejected', early: false });
    expect(clock.armed).toBe(0);
  });

  it('a request the stack could not send fails as not sent (status 503)', async () => {
    const { placed, attempt } = start();
    placed.fail(undefined);
    await expect(attempt.outcome).resolves.toMatchObject({ kind: 'failed', status: 503, notSent: true });
  });

  it('sent → answered on a 2xx', async () => {
    const { placed, attempt, clock } = start();
    placed.sent();
    const leg = new FakeLeg('carrier');
    placed.answer(leg);
    const outcome = await attempt.outcome;
    expect(outcome.kind).toBe('answered');
    expect(attempt.state).toBe('answered');
    expect(clock.armed).toBe(0);
    expect(leg.byes).toBe(0);
  });

  it('ringing → cancelled when the platform cancels: CANCEL, and the 487 that follows changes nothing', async () => {
    const { placed, attempt } = start();
    placed.sent();
    placed.provisional(180, 'Ringing');
    attempt.cancel();
    expect(attempt.state).toBe('cancelled');
    expect(placed.cancels).toBe(1);
    await expect(attempt.outcome).resolves.toEqual({ kind: 'cancelled' });
    placed.fail(487, 'Request Terminated');
    await settle();
    attempt.cancel(); // a final state has no way out: nothing more is sent
    expect(placed.cancels).toBe(1);
  });

  it('hangs up a 2xx that crossed its CANCEL (RFC 3261 §9.1, §15)', async () => {
    const { clock, placed, attempt } = start();
    placed.sent();
    clock.advance(CONNECT_TIMEOUT_MS);
    const late = new FakeLeg('late carrier');
    placed.answer(late);
    await settle();
    expect(attempt.state).toBe('timed-out');
    expect(late.byes).toBe(1);
  });

  it('ignores provisionals once final', async () => {
    const { placed, attempt, seen } = start();
    placed.sent();
    attempt.cancel();
    placed.provisional(180, 'Ringing');
    expect(seen).toEqual([]);
    expect(attempt.state).toBe('cancelled');
  });
});
