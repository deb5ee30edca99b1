/**
 * The event emitter transactions use: node's `on` / `once` / `off` / `emit` for a handful of
 * listeners, kept in one flat array (event, listener, event, listener, …) instead of
 * EventEmitter's `_events`, a dictionary-mode object of about 300 bytes per emitter. A
 * transaction lingers for 64*T1 after its final response (docs/performance.md §9), thousands at
 * once under load, with two to four listeners each.
 *
 * Semantics follow node's EventEmitter where transactions rely on them: listeners run in the
 * order they were added; a listener added while an event is being emitted does not hear that
 * emission; `once` listeners are removed before they run, so each runs once; an exception in
 * a listener propagates out of `emit`; `off` removes the most recently added match.
 *
 * `follow` adds a follower: one object whose methods, named after the events, hear them in its
 * slot's turn (like a DOM `handleEvent` object). A user that keeps listening for as long as a
 * transaction lingers then holds one object of a class per transaction, not a closure per event
 * and the context they share (docs/performance.md §15).
 */
type Args<E, K extends keyof E> = E[K] extends unknown[] ? E[K] : never;
type Listener<E, K extends keyof E> = (...args: Args<E, K>) => void;

/** The face transactions show their users (what EventEmitter<E> offers that they use). */
export interface Listenable<E> {
  on<K extends keyof E>(event: K, listener: Listener<E, K>): this;
  once<K extends keyof E>(event: K, listener: Listener<E, K>): this;
  off<K extends keyof E>(event: K, listener: Listener<E, K>): this;
  follow(follower: Follower<E>): this;
  listenerCount(event: keyof E): number;
}

/** Hears the events it has a method for, called with the follower as `this`. */
export type Follower<E> = { [K in keyof E]?: Listener<E, K> };

/** A `once` listener, as its slot holds it (a plain function is an `on` listener). */
interface Once {
  readonly once: unknown;
}

/** The event slot of a follower. */
const FOLLOWS: unique symbol = Symbol('follows');

export class SlimEmitter<E> implements Listenable<E> {
  /**
   * event, listener, event, listener, …, replaced (never changed in place) when a listener comes
   * or goes, so an emission runs over the array as it was and each array is exactly its size.
   */
  private slots: readonly unknown[] | undefined;

  on<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    return this.add(event, listener, listener);
  }

  once<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    const slot: Once = { once: listener };
    return this.add(event, listener, slot);
  }

  follow(follower: Follower<E>): this {
    if (typeof follower !== 'object' || follower === null) throw new TypeError('follower must be an object');
    this.slots = this.slots ? this.slots.concat(FOLLOWS, follower) : [FOLLOWS, follower];
    return this;
  }

  off<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    const s = this.slots;
    if (!s) return this;
    for (let i = s.length - 2; i >= 0; i -= 2) {
      if (s[i] === event && listenerOf(s[i + 1]) === listener) {
        this.removeAt(i);
        break;
      }
    }
    return this;
  }

  listenerCount(event: keyof E): number {
    const s = this.slots;
    let n = 0;
    if (s) for (let i = 0; i < s.length; i += 2) if (s[i] === event || (s[i] === FOLLOWS && typeof (s[i + 1] as Follower<E>)[event] === 'function')) n++;
    return n;
  }

  /** Calls the event's listeners with args; true when there was at least one. */
  emit<K extends keyof E>(event: K, ...args: Args<E, K>): boolean {
    const s = this.slots;
    if (!s) return false;
    let heard = false;
    for (let i = 0; i < s.length; i += 2) {
      if (s[i] === FOLLOWS) {
        const follower = s[i + 1] as Follower<E>;
        const method = follower[event] as ((...a: unknown[]) => void) | undefined;
        if (typeof method !== 'function') continue;
        heard = true;
        method.apply(follower, args);
        continue;
      }
      if (s[i] !== event) continue;
      heard = true;
      const slot = s[i + 1];
      if (typeof slot === 'function') {
        (slot as (...a: unknown[]) => void).apply(this, args);
        continue;
      }
      // a once listener leaves before it runs (its slot is found again: earlier listeners may have changed the array)
      const at = this.slots?.indexOf(slot) ?? -1;
      if (at < 0) continue;
      this.removeAt(at - 1);
      ((slot as Once).once as (...a: unknown[]) => void).apply(this, args);
    }
    return heard;
  }

  private add(event: keyof E, listener: unknown, slot: unknown): this {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.slots = this.slots ? this.slots.concat(event, slot) : [event, slot];
    return this;
  }

  private removeAt(i: number): void {
    const s = this.slots!;
    this.slots = s.length === 2 ? undefined : s.slice(0, i).concat(s.slice(i + 2));
  }
}

function listenerOf(slot: unknown): unknown {
  return typeof slot === 'function' ? slot : (slot as Once).once;
}
