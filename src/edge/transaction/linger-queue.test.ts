import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { LingerQueue } from './linger-queue.ts';

function waiter(log: string[], name: string): { lingerEnded(): void } {
  return { lingerEnded: () => log.push(name) };
}

describe('LingerQueue (the ends of lingering transactions, docs/performance.md §9)', () => {
  it('ends each wait exactly ms after it began, in order, with one timer per length', () => {
    const clock = new ManualClock();
    const q = new LingerQueue(clock);
    const log: string[] = [];
    q.add(waiter(log, 'a'), 3200);
    clock.advance(10);
    q.add(waiter(log, 'b'), 3200);
    q.add(waiter(log, 'k'), 500);
    expect(clock.armed).toBe(2);
    expect(q.size).toBe(3);
    clock.advance(499);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual(['k']);
    clock.advance(3200 - 510 - 1);
    expect(log).toEqual(['k']);
    clock.advance(1);
    expect(log).toEqual(['k', 'a']);
    clock.advance(9);
    expect(log).toEqual(['k', 'a']);
    clock.advance(1);
    expect(log).toEqual(['k', 'a', 'b']);
    expect(q.size).toBe(0);
    expect(clock.armed).toBe(0);
  });

  it('ends every wait due at once in one firing, a zero wait at the next turn', () => {
    const clock = new ManualClock();
    const q = new LingerQueue(clock);
    const log: string[] = [];
    for (const n of ['1', '2', '3']) q.add(waiter(log, n), 100);
    q.add(waiter(log, 'tcp'), 0);
    expect(log).toEqual([]);
    clock.advance(0);
    expect(log).toEqual(['tcp']);
    clock.advance(100);
    expect(log).toEqual(['tcp', '1', '2', '3']);
  });

  it('waits out the rest when its timer fires before the clock reads the end', () => {
    let now = 0;
    let fire: (() => void) | undefined;
    const clock = {
      now: () => now,
      setTimeout: (fn: () => void) => {
        fire = fn;
        return 1;
      },
      clearTimeout: () => undefined,
    };
    const q = new LingerQueue(clock);
    const log: string[] = [];
    q.add(waiter(log, 'a'), 100);
    now = 98; // node counted from the loop's cached time
    fire!();
    expect(log).toEqual([]);
    now = 100;
    fire!();
    expect(log).toEqual(['a']);
  });

  it('keeps its line compact through many waits, and clear() stops its timers without telling anyone', () => {
    const clock = new ManualClock();
    const q = new LingerQueue(clock);
    const log: string[] = [];
    for (let i = 0; i < 5000; i++) {
      q.add(waiter(log, String(i)), 1000);
      clock.advance(1);
    }
    // wait i began at i and ends at i + 1000: at 5000, waits 0 … 4000 are over
    expect(log.length).toBe(4001);
    expect(log[4000]).toBe('4000');
    expect(q.size).toBe(999);
    q.clear();
    expect(clock.armed).toBe(0);
    clock.advance(5000);
    expect(log.length).toBe(4001);
    expect(q.size).toBe(0);
  });
});
