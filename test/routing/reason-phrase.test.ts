import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, finalStatus, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/** docs/routing.md §4: the carrier's reason phrase reaches the platform unchanged. */
describe('carrier reason phrases', () => {
  let h: RoutingHarness;

  beforeAll(async () => {
    h = await startRoutingHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await h.reset();
  });

  it.each([
    ['486 Rejected', 486],
    ['503 Carrier Overloaded Try Later', 503],
    ['404 Number Not In Service', 404],
  ])('a final "%s" arrives as it was sent', async (status, code) => {
    // one carrier only: a failover status then is the last one, passed on
    const carrier = await h.carrier('carrier-reject.xml', { status });
    await h.provision(carrier, { target: '+1' });
    const platform = await h.platform('platform-call-fails.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(code);
    expect(platform.messages).toMatch(new RegExp(`^SIP/2\\.0 ${status}\\r?$`, 'm'));
  });

  it('a provisional "180 Ringing At The Far End" arrives as it was sent', async () => {
    const carrier = await h.carrier('carrier-no-answer.xml', { provisional: '180 Ringing At The Far End' });
    await h.provision(carrier, { target: '+1' });
    const platform = await h.platform('platform-cancel.xml', '+15551234567', { pauseMs: 300 });
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(platform.messages).toMatch(/^SIP\/2\.0 180 Ringing At The Far End\r?$/m);
  });

  it('a status drachtio-srf cannot send (608) reaches the platform as its class, 600 (RFC 3261 §8.1.3.2)', async () => {
    const carrier = await h.carrier('carrier-reject.xml', { status: '608 Rejected' });
    await h.provision(carrier, { target: '+1' });
    const platform = await h.platform('platform-call-fails.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(600);
    const record = h.t.logs.lines.filter((l) => l.msg === 'call ended').at(-1) as { status: number; attempts: Array<{ status: number }> };
    expect(record.attempts.map((a) => a.status)).toEqual([608]);
  });
});
