import { describe, expect, it } from 'vitest';
import type { SrvRecord } from './dns-client.ts';
import { orderSrv } from './srv-order.ts';

const r = (priority: number, weight: number, target: string): SrvRecord => ({ priority, weight, port: 5060, target });

/** A random source that returns the given values in turn. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

describe('orderSrv (RFC 2782 usage rules)', () => {
  it('tries lower priorities first, whatever the weights', () => {
    const out = orderSrv([r(20, 100, 'late'), r(10, 0, 'early')], sequence(0.99));
    expect(out.map((x) => x.target)).toEqual(['early', 'late']);
  });

  it.each([
    // weights 10 (a) and 30 (b): the running sums are 10 and 40; the draw is floor(random * 41)
    [0, ['a', 'b']], // draw 0 → a (10 >= 0)
    [10 / 41, ['a', 'b']], // draw 10 → a
    [11 / 41, ['b', 'a']], // draw 11 → b
    [0.999, ['b', 'a']], // draw 40 → b
  ] as const)('picks by weight within a priority (random %f → %j)', (random, expected) => {
    expect(orderSrv([r(10, 10, 'a'), r(10, 30, 'b')], () => random).map((x) => x.target)).toEqual(expected);
  });

  it('puts zero-weight records first in the running sum, so they are chosen only on a zero draw', () => {
    expect(orderSrv([r(1, 50, 'heavy'), r(1, 0, 'zero')], () => 0).map((x) => x.target)).toEqual(['zero', 'heavy']);
    expect(orderSrv([r(1, 50, 'heavy'), r(1, 0, 'zero')], () => 0.5).map((x) => x.target)).toEqual(['heavy', 'zero']);
  });

  it('chooses in proportion to weight over many draws', () => {
    let seed = 7;
    const lcg = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const firsts = { a: 0, b: 0 };
    for (let i = 0; i < 4000; i++) firsts[orderSrv([r(1, 1, 'a'), r(1, 3, 'b')], lcg)[0]!.target as 'a' | 'b']++;
    // RFC 2782 draws 0..sum inclusive: weights 1 and 3 give b the draws 2, 3 and 4 of 0..4
    expect(firsts.b / 4000).toBeGreaterThan(0.55);
    expect(firsts.b / 4000).toBeLessThan(0.65);
  });

  it('a lone "." target means no service', () => {
    expect(orderSrv([r(0, 0, '.')])).toEqual([]);
  });
});
