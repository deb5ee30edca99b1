import { describe, expect, it } from 'vitest';
import { checkedMove, isFinalState, type StateTable } from './state-table.ts';

type Light = 'red' | 'green' | 'off';
const TABLE: StateTable<Light> = { red: ['green', 'off'], green: ['red', 'off'], off: [] };

describe('checkedMove', () => {
  it('returns the new state for a move the table lists', () => {
    expect(checkedMove(TABLE, 'red', 'green', 'light')).toBe('green');
  });

  it.each([
    ['red', 'red'],
    ['off', 'red'],
    ['off', 'off'],
  ] as const)('refuses %s -> %s, naming the machine', (from, to) => {
    expect(() => checkedMove(TABLE, from, to, 'light 7')).toThrow(`light 7: illegal transition ${from} -> ${to}`);
  });

  it('knows the final states', () => {
    expect(isFinalState(TABLE, 'off')).toBe(true);
    expect(isFinalState(TABLE, 'red')).toBe(false);
  });
});
