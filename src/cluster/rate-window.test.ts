import { describe, expect, it } from 'vitest';
import { rateWindow, SlidingWindow } from './rate-window.ts';

describe('rateWindow', () => {
  it.each([
    [10, 10, 1000],
    [1, 1, 1000],
    [0.5, 1, 2000],
    [2.5, 3, 1200],
    [0.1, 1, 10_000],
  ])('%s per second → %s per %s ms', (rate, capacity, windowMs) => {
    const w = rateWindow(rate);
    expect(w.capacity).toBe(capacity);
    expect(w.windowMs).toBeCloseTo(windowMs, 6);
    // the long-run rate is exactly the one asked for
    expect((w.capacity / w.windowMs) * 1000).toBeCloseTo(rate, 9);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s', (rate) => {
    expect(() => rateWindow(rate)).toThrow(RangeError);
  });
});

describe('SlidingWindow', () => {
  it('admits at most the capacity within any window, and again once the oldest has left it', () => {
    const w = new SlidingWindow(3);
    expect([w.tryRecord(0), w.tryRecord(10), w.tryRecord(20), w.tryRecord(30)]).toEqual([true, true, true, false]);
    expect(w.tryRecord(999)).toBe(false);
    // the attempt at 0 leaves the window at 1000 exactly
    expect(w.tryRecord(1000)).toBe(true);
    expect(w.tryRecord(1005)).toBe(false);
    expect(w.tryRecord(1010)).toBe(true);
  });

  it('holds a fractional rate to its long-run value: 0.5 per second is one per 2 s', () => {
    const w = new SlidingWindow(0.5);
    const admitted: number[] = [];
    for (let t = 0; t <= 10_000; t += 100) if (w.tryRecord(t)) admitted.push(t);
    expect(admitted).toEqual([0, 2000, 4000, 6000, 8000, 10_000]);
  });

  it('2.5 per second never admits more than 3 in one second, and 30 in 12 s of steady demand', () => {
    const w = new SlidingWindow(2.5);
    const admitted: number[] = [];
    for (let t = 0; t < 12_000; t += 10) if (w.tryRecord(t)) admitted.push(t);
    expect(admitted.length).toBe(30);
    for (const start of admitted) expect(admitted.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(3);
  });

  it('fits() looks without recording; record() counts an attempt admitted elsewhere even when full', () => {
    const w = new SlidingWindow(2);
    expect(w.fits(0)).toBe(true);
    expect(w.fits(0)).toBe(true);
    w.record(0);
    w.record(1);
    expect(w.fits(2)).toBe(false);
    w.record(3); // the oldest (0) gives way
    expect(w.fits(1000)).toBe(false); // 1 and 3 are still inside
    expect(w.fits(1003)).toBe(true);
    expect(w.idle(1003)).toBe(true);
  });
});
