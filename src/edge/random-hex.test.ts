import { describe, expect, it } from 'vitest';
import { randomHex, randomUuid } from './random-hex.ts';

describe('random identifiers (docs/performance.md §6)', () => {
  it('randomUuid gives version 4 UUIDs, all different, across pool refills', () => {
    const seen = new Set<string>();
    // 16 bytes each: 1,000 of them refill the 4 KiB pool several times
    for (let i = 0; i < 1000; i++) {
      const id = randomUuid();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(1000);
  });

  it('randomUuid and randomHex never hand out the same bytes', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const hex = randomHex(8);
      taken.add(hex.slice(0, 12));
      // bytes 0-5 of a UUID are as drawn (version and variant sit in bytes 6 and 8)
      const u = randomUuid().replace(/-/g, '');
      expect(taken.has(u.slice(0, 12))).toBe(false);
      taken.add(u.slice(0, 12));
    }
    expect(taken.size).toBe(600);
  });
});
