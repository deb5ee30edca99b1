import { describe, expect, it } from 'vitest';
import { SlimEmitter } from './slim-emitter.ts';

interface Events {
  a: [n: number];
  b: [];
}

describe('SlimEmitter (the emitter transactions use)', () => {
  it('calls listeners in the order they were added, with the arguments, and says whether anyone heard', () => {
    const e = new SlimEmitter<Events>();
    const got: string[] = [];
    expect(e.emit('a', 1)).toBe(false);
    e.on('a', (n) => got.push(`first ${n}`));
    e.on('b', () => got.push('b'));
    e.on('a', (n) => got.push(`second ${n}`));
    expect(e.emit('a', 7)).toBe(true);
    expect(got).toEqual(['first 7', 'second 7']);
    expect(e.listenerCount('a')).toBe(2);
    expect(e.listenerCount('b')).toBe(1);
  });

  it('runs a once listener once, and off removes the most recent match', () => {
    const e = new SlimEmitter<Events>();
    const got: number[] = [];
    const f = (n: number): void => {
      got.push(n);
    };
    e.once('a', f);
    e.on('a', f);
    e.emit('a', 1);
    e.emit('a', 2);
    expect(got).toEqual([1, 1, 2]);
    e.off('a', f);
    e.emit('a', 3);
    expect(got).toEqual([1, 1, 2]);
    expect(e.listenerCount('a')).toBe(0);
    e.once('b', () => got.push(9));
    e.off('b', (() => undefined) as () => void);
    expect(e.listenerCount('b')).toBe(1);
  });

  it('an emission is heard by the listeners there when it began; a once listener removed first stays silent', () => {
    const e = new SlimEmitter<Events>();
    const got: string[] = [];
    const late = (): void => {
      got.push('late');
    };
    const removed = (): void => {
      got.push('removed once');
    };
    e.on('b', () => {
      got.push('first');
      e.on('b', late);
      e.off('b', removed);
    });
    e.once('b', removed);
    e.emit('b');
    expect(got).toEqual(['first']);
    e.emit('b');
    expect(got).toEqual(['first', 'first', 'late']);
  });

  it('passes a listener\'s exception out of emit, and refuses a listener that is no function', () => {
    const e = new SlimEmitter<Events>();
    e.on('b', () => {
      throw new Error('boom');
    });
    expect(() => e.emit('b')).toThrow('boom');
    expect(() => e.on('b', 42 as unknown as () => void)).toThrow(TypeError);
  });
  it('calls a follower\'s methods for the events it has, as `this`, in its slot\'s turn among listeners', () => {
    const e = new SlimEmitter<Events>();
    const got: string[] = [];
    class Follower {
      readonly name = 'f';
      a(n: number): void {
        got.push(`${this.name} ${n}`);
      }
    }
    e.on('a', (n) => got.push(`before ${n}`));
    e.follow(new Follower());
    e.on('a', (n) => got.push(`after ${n}`));
    expect(e.emit('a', 3)).toBe(true);
    expect(got).toEqual(['before 3', 'f 3', 'after 3']);
    // b has no method on the follower and no listener: nobody hears it
    expect(e.emit('b')).toBe(false);
    expect(e.listenerCount('a')).toBe(3);
    expect(e.listenerCount('b')).toBe(0);
    expect(() => e.follow(null as unknown as Follower)).toThrow(TypeError);
  });
});
