/**
 * Calls per second as a sliding window (docs/cluster.md §3): a rate r admits at most n = ceil(r)
 * attempts in any window of n / r seconds. For a whole r that is "at most r in any second", which
 * is how carriers count; a fractional r keeps its long-run rate exactly (0.5 → one per 2 s,
 * 2.5 → three per 1.2 s) and never admits more than ceil(r) within one second.
 * The same rule runs in process (here) and in Redis (redis-scripts.ts), so a fallback to
 * per-instance limits keeps the meaning of `max_cps`.
 */

export interface RateWindow {
  /** attempts admitted per window */
  readonly capacity: number;
  /** window length in ms */
  readonly windowMs: number;
}

export function rateWindow(perSecond: number): RateWindow {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`calls per second must be a positive number, got ${perSecond}`);
  const capacity = Math.ceil(perSecond);
  return { capacity, windowMs: (capacity / perSecond) * 1000 };
}

/** The admitted attempts of one key within its window: a ring of their times. */
export class SlidingWindow {
  private readonly times: Float64Array;
  /** index of the oldest entry */
  private head = 0;
  private size = 0;

  constructor(
    readonly perSecond: number,
    private readonly window: RateWindow = rateWindow(perSecond),
  ) {
    this.times = new Float64Array(window.capacity);
  }

  /** Whether one more attempt at `now` fits (nothing is recorded). */
  fits(now: number): boolean {
    this.expire(now);
    return this.size < this.window.capacity;
  }

  /** Records an attempt at `now` when it fits; returns whether it did. */
  tryRecord(now: number): boolean {
    if (!this.fits(now)) return false;
    this.push(now);
    return true;
  }

  /**
   * Records an attempt admitted elsewhere (by Redis), so that a fallback to this window starts
   * from what was really sent. When the ring is full the oldest entry gives way.
   */
  record(now: number): void {
    this.expire(now);
    if (this.size === this.window.capacity) {
      this.head = (this.head + 1) % this.times.length;
      this.size--;
    }
    this.push(now);
  }

  /** Whether every recorded attempt has left the window. */
  idle(now: number): boolean {
    this.expire(now);
    return this.size === 0;
  }

  private push(now: number): void {
    this.times[(this.head + this.size) % this.times.length] = now;
    this.size++;
  }

  private expire(now: number): void {
    const from = now - this.window.windowMs;
    while (this.size > 0 && this.times[this.head]! <= from) {
      this.head = (this.head + 1) % this.times.length;
      this.size--;
    }
  }
}
