/** A Clock for unit tests: timers fire only when advance() moves time past them, in time order. */
import type { Clock } from '../../src/sip/clock.ts';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private time = 0;
  private seq = 0;
  private pending: Pending[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.push({ id, at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  /** timers still set */
  get armed(): number {
    return this.pending.length;
  }

  /** when the next timer fires, relative to now; undefined when none is set */
  get nextInMs(): number | undefined {
    if (this.pending.length === 0) return undefined;
    return Math.min(...this.pending.map((p) => p.at)) - this.time;
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
  }
}
