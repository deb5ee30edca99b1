import { describe, expect, it } from 'vitest';
import type { CallSlot } from './call-limiter.ts';
import { LocalCallLimiter, LocalLimits } from './local-call-limiter.ts';

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('LocalCallLimiter', () => {
  it('holds max_calls slots per key, frees one on release, and a second release does nothing', async () => {
    const limiter = new LocalCallLimiter();
    const a = await limiter.tryAcquire('provider:a', 2);
    const b = await limiter.tryAcquire('provider:a', 2);
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(await limiter.tryAcquire('provider:a', 2)).toBeNull();
    // another key has its own slots
    expect(await limiter.tryAcquire('provider:b', 1)).not.toBeNull();
    expect(limiter.held('provider:a')).toBe(2);
    a!.release();
    a!.release();
    expect(limiter.held('provider:a')).toBe(1);
    expect(await limiter.clusterHeld('provider:a')).toBe(1);
    const c = await limiter.tryAcquire('provider:a', 2);
    expect(c?.key).toBe('provider:a');
    expect(await limiter.tryAcquire('provider:a', 2)).toBeNull();
  });

  it('0 is unlimited', async () => {
    const limiter = new LocalCallLimiter();
    const slots: CallSlot[] = [];
    for (let i = 0; i < 1000; i++) {
      const a = await limiter.admit('calls', { maxCalls: 0, maxCps: 0 });
      expect(a.admitted).toBe(true);
      if (a.admitted) slots.push(a);
    }
    expect(limiter.held('calls')).toBe(1000);
    for (const s of slots) s.release();
    expect(limiter.held('calls')).toBe(0);
  });

  it('refuses over max_cps within the window and admits again once it has moved on', async () => {
    const c = clock();
    const limiter = new LocalCallLimiter(c.now);
    const verdicts: boolean[] = [];
    for (let i = 0; i < 5; i++) verdicts.push(await limiter.tryRate('provider:a', 3));
    expect(verdicts).toEqual([true, true, true, false, false]);
    c.advance(999);
    expect(await limiter.tryRate('provider:a', 3)).toBe(false);
    c.advance(1);
    expect(await limiter.tryRate('provider:a', 3)).toBe(true);
    // tryRate holds no slot
    expect(limiter.held('provider:a')).toBe(0);
  });

  it('says which limit refused; a max_calls refusal uses no rate, a max_cps refusal holds no slot', async () => {
    const c = clock();
    const limiter = new LocalCallLimiter(c.now);
    const limits = { maxCalls: 1, maxCps: 2 };
    const first = await limiter.admit('p', limits);
    expect(first.admitted).toBe(true);
    expect(await limiter.admit('p', limits)).toEqual({ admitted: false, limit: 'max_calls' });
    expect(await limiter.admit('p', limits)).toEqual({ admitted: false, limit: 'max_calls' });
    if (first.admitted) first.release();
    // only the first admission used the rate: one more fits in this second
    const second = await limiter.admit('p', limits);
    expect(second.admitted).toBe(true);
    if (second.admitted) second.release();
    expect(await limiter.admit('p', limits)).toEqual({ admitted: false, limit: 'max_cps' });
    expect(limiter.held('p')).toBe(0);
  });

  it('a changed max_cps takes effect at once', async () => {
    const c = clock();
    const limiter = new LocalCallLimiter(c.now);
    expect(await limiter.tryRate('p', 1)).toBe(true);
    expect(await limiter.tryRate('p', 1)).toBe(false);
    expect(await limiter.tryRate('p', 5)).toBe(true);
  });

  it.each([
    [{ maxCalls: -1, maxCps: 0 }],
    [{ maxCalls: 1.5, maxCps: 0 }],
    [{ maxCalls: 0, maxCps: -0.5 }],
    [{ maxCalls: 0, maxCps: Number.NaN }],
  ])('rejects limits that are not limits: %o', async (limits) => {
    await expect(new LocalCallLimiter().admit('p', limits)).rejects.toThrow(RangeError);
  });
});

describe('LocalLimits (the bookkeeping the Redis limiter shares)', () => {
  it('counts reservations, reports shared keys until they were reported at 0, and forgets them then', () => {
    const l = new LocalLimits(() => 0);
    expect(l.reserve('a', true)).toBe(0);
    expect(l.reserve('a', true)).toBe(1);
    expect(l.reserve('b', false)).toBe(0);
    expect(l.held('a')).toBe(2);
    expect(l.sharedCounts()).toEqual([['a', 2]]);
    l.give('a');
    l.give('a');
    const reported = l.sharedCounts();
    expect(reported).toEqual([['a', 0]]);
    l.forgetReported(reported);
    expect(l.sharedCounts()).toEqual([]);
    // a key given back below 0 stays at 0
    expect(l.give('a')).toBe(0);
  });

  it('keeps reporting a key whose count moved after the report was taken', () => {
    const l = new LocalLimits(() => 0);
    l.reserve('a', true);
    const reported = l.sharedCounts(); // [a, 1]
    l.give('a'); // released while the heartbeat was on its way
    l.forgetReported(reported);
    expect(l.sharedCounts()).toEqual([['a', 0]]);
  });
});
