/**
 * The running timers of one transaction, by RFC name, so that a state change can stop them.
 * A transaction runs two or three at a time, and lingers for 64*T1 with one: a flat array of
 * name/handle pairs, not a Map, whose hash table would weigh more than the timers it holds.
 */
import type { Clock } from './timers.ts';

export class NamedTimers {
  /**
   * name, handle, name, handle, …; a free pair is (undefined, undefined). Two pairs from the
   * start, the most a transaction runs at once (A and B, E and F, G and H): pushing onto an empty
   * array would reserve room for 17.
   */
  private readonly running: unknown[] = [undefined, undefined, undefined, undefined];

  constructor(private readonly clock: Clock) {}

  start(name: string, ms: number, fn: () => void): void {
    this.stop(name);
    const handle = this.clock.setTimeout(() => {
      this.remove(name);
      fn();
    }, ms);
    const free = this.indexOf(undefined);
    if (free < 0) this.running.push(name, handle);
    else {
      this.running[free] = name;
      this.running[free + 1] = handle;
    }
  }

  stop(name: string): void {
    const i = this.indexOf(name);
    if (i < 0) return;
    this.clock.clearTimeout(this.running[i + 1]);
    this.free(i);
  }

  stopAll(): void {
    for (let i = 0; i < this.running.length; i += 2) {
      if (this.running[i] === undefined) continue;
      this.clock.clearTimeout(this.running[i + 1]);
      this.free(i);
    }
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  private remove(name: string): void {
    const i = this.indexOf(name);
    if (i >= 0) this.free(i);
  }

  private free(i: number): void {
    this.running[i] = undefined;
    this.running[i + 1] = undefined;
  }

  /** where a name is, or the first free pair for undefined (names sit at even places, handles after them) */
  private indexOf(name: string | undefined): number {
    for (let i = 0; i < this.running.length; i += 2) if (this.running[i] === name) return i;
    return -1;
  }
}
