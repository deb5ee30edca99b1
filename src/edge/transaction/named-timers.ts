/** The running timers of one transaction, by RFC name, so that a state change can stop them. */
import type { Clock } from './timers.ts';

export class NamedTimers {
  private readonly handles = new Map<string, unknown>();

  constructor(private readonly clock: Clock) {}

  start(name: string, ms: number, fn: () => void): void {
    this.stop(name);
    this.handles.set(
      name,
      this.clock.setTimeout(() => {
        this.handles.delete(name);
        fn();
      }, ms),
    );
  }

  stop(name: string): void {
    const h = this.handles.get(name);
    if (h === undefined) return;
    this.clock.clearTimeout(h);
    this.handles.delete(name);
  }

  stopAll(): void {
    for (const name of [...this.handles.keys()]) this.stop(name);
  }

  has(name: string): boolean {
    return this.handles.has(name);
  }
}
