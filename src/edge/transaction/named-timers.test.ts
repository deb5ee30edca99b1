import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { NamedTimers } from './named-timers.ts';

function setup() {
  const clock = new ManualClock();
  return { clock, timers: new NamedTimers(clock), fired: [] as string[] };
}

describe('NamedTimers', () => {
  it('fires each timer once, by name, and forgets it after it fired', () => {
    const { clock, timers, fired } = setup();
    timers.start('A', 500, () => fired.push('A'));
    timers.start('B', 32000, () => fired.push('B'));
    expect(timers.has('A') && timers.has('B')).toBe(true);
    clock.advance(500);
    expect(fired).toEqual(['A']);
    expect(timers.has('A')).toBe(false);
    expect(timers.has('B')).toBe(true);
    clock.advance(31500);
    expect(fired).toEqual(['A', 'B']);
    expect(clock.armed).toBe(0);
  });

  it('restarting a name replaces its timer; stop and stopAll clear them', () => {
    const { clock, timers, fired } = setup();
    timers.start('E', 500, () => fired.push('E1'));
    timers.start('E', 1000, () => fired.push('E2'));
    expect(clock.armed).toBe(1);
    clock.advance(1000);
    expect(fired).toEqual(['E2']);
    timers.start('F', 100, () => fired.push('F'));
    timers.stop('F');
    timers.stop('F');
    clock.advance(200);
    expect(fired).toEqual(['E2']);
    timers.start('G', 100, () => fired.push('G'));
    timers.start('H', 100, () => fired.push('H'));
    timers.stopAll();
    expect(timers.has('G') || timers.has('H')).toBe(false);
    clock.advance(200);
    expect(fired).toEqual(['E2']);
    expect(clock.armed).toBe(0);
    // after stopAll a timer can start again
    timers.start('I', 100, () => fired.push('I'));
    clock.advance(100);
    expect(fired).toEqual(['E2', 'I']);
  });

  it('runs more timers at once than its first two slots, and reuses freed slots', () => {
    const { clock, timers, fired } = setup();
    for (const [name, ms] of [['A', 300], ['B', 100], ['D', 200], ['K', 400]] as const) timers.start(name, ms, () => fired.push(name));
    expect(['A', 'B', 'D', 'K'].every((n) => timers.has(n))).toBe(true);
    clock.advance(100);
    timers.start('M', 50, () => fired.push('M'));
    clock.advance(400);
    expect(fired).toEqual(['B', 'M', 'D', 'A', 'K']);
    expect(['A', 'B', 'D', 'K', 'M'].some((n) => timers.has(n))).toBe(false);
  });
});
