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
   * array would reserve room for 17. None once stopAll() ran: a lingering transaction runs none.
   */
  private running: unknown[] | undefined;

  constructor(private readonly clock: Clock) {}

  start(name: string, ms: number, fn: () => void): void {
    this.stop(name);
    const handle = this.clock.setTimeout(() => {
      this.remove(name);
      fn();
    }, ms);
    const running = (this.running ??= [undefined, undefined, undefined, undefined]);
    const free = this.indexOf(undefined);
    if (free < 0) running.push(name, handle);
    else {
      running[free] = name;
      running[free + 1] = handle;
    }
  }

  stop(name: string): void {
    const i = this.indexOf(name);
    if (i < 0) return;
    this.clock.clearTimeout(this.running![i + 1]);
    this.free(i);
  }

  /** Stops every timer and lets go of the slots (start() makes them again). */
  stopAll(): void {
    const running = this.running;
    if (!running) return;
    for (let i = 0; i < running.length; i += 2) if (running[i] !== undefined) this.clock.clearTimeout(running[i + 1]);
    this.running = undefined;
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  private remove(name: string): void {
    const i = this.indexOf(name);
    if (i >= 0) this.free(i);
  }

  private free(i: number): void {
    this.running![i] = undefined;
    this.running![i + 1] = undefined;
  }

  /** where a name is, or the first free pair for undefined (names sit at even places, handles after them) */
  private indexOf(name: string | undefined): number {
    const running = this.running;
    if (running) for (let i = 0; i < running.length; i += 2) if (running[i] === name) return i;
    return -1;
  }
}
