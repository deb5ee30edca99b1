import { describe, expect, it } from 'vitest';
import { ChunkedMap } from './chunked-map.ts';

describe('ChunkedMap', () => {
  it('reads, adds and removes like a Map across many chunks, leaving earlier versions unchanged', () => {
    const reference = new Map<string, number>();
    let m = ChunkedMap.empty<number>();
    const versions: Array<[ChunkedMap<number>, Map<string, number>]> = [];
    for (let i = 0; i < 3000; i++) {
      const key = `+${(i * 7919) % 1000}`;
      if (i % 5 === 4) {
        m = m.without(key);
        reference.delete(key);
      } else {
        m = m.with(key, i);
        reference.set(key, i);
      }
      if (i % 500 === 0) versions.push([m, new Map(reference)]);
    }
    expect(m.size).toBe(reference.size);
    expect(new Map(m.entries())).toEqual(reference);
    for (const [k, v] of reference) expect(m.get(k)).toBe(v);
    expect(m.has('+nope')).toBe(false);
    for (const [version, expected] of versions) expect(new Map(version.entries())).toEqual(expected);
    const big = ChunkedMap.from(new Map(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i] as [string, number])));
    expect(big.get('k4999')).toBe(4999);
    expect(big.without('k1').size).toBe(4999);
    expect(big.size).toBe(5000);
  });
});

describe('ChunkedMap with number keys (prefix keys, docs/performance.md §4)', () => {
  it('reads, adds and removes like a Map across many chunks, keys up to 2e15 included', () => {
    const reference = new Map<number, number>();
    let m = ChunkedMap.empty<number, number>();
    const versions: Array<[ChunkedMap<number, number>, Map<number, number>]> = [];
    for (let i = 0; i < 4000; i++) {
      // small keys, keys above 2^32 and 16-digit keys, as prefix keys of 1..15 digits are
      const key = i % 3 === 0 ? 10 + ((i * 7919) % 900) : i % 3 === 1 ? 1_000_000_000_000_000 + ((i * 104_729) % 5000) : 10_000_000_000 + ((i * 31) % 2000);
      if (i % 5 === 4) {
        m = m.without(key);
        reference.delete(key);
      } else {
        m = m.with(key, i);
        reference.set(key, i);
      }
      if (i % 500 === 0) versions.push([m, new Map(reference)]);
    }
    expect(m.size).toBe(reference.size);
    expect(new Map(m.entries())).toEqual(reference);
    for (const [k, v] of reference) expect(m.get(k)).toBe(v);
    expect(m.get(1_000_000_000_000_000 + 5001)).toBeUndefined();
    for (const [version, expected] of versions) expect(new Map(version.entries())).toEqual(expected);
    const small = ChunkedMap.from(new Map([[11, 'a'], [144, 'b']]));
    expect(small.get(11)).toBe('a');
    expect(small.with(12, 'c').get(12)).toBe('c');
    expect(small.get(12)).toBeUndefined();
  });
});
