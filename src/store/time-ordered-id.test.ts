import { describe, expect, it } from 'vitest';
import { timeOrderedId } from './time-ordered-id.ts';

describe('timeOrderedId (UUID version 7, RFC 9562 §5.7)', () => {
  it('is a version 7, variant 10 UUID whose first 48 bits are the time in ms', () => {
    const id = timeOrderedId(Date.UTC(2026, 3, 23, 10, 0, 0, 123));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2026, 3, 23, 10, 0, 0, 123));
  });

  it('sorts by time across milliseconds and differs within one', () => {
    const ids = [1000, 1001, 5000, 1_800_000_000_000].map((ms) => timeOrderedId(ms));
    expect([...ids].sort()).toEqual(ids);
    expect(timeOrderedId(1000)).not.toBe(timeOrderedId(1000));
  });
});
