/**
 * When lingering transactions end (docs/performance.md §9). After its final response a
 * transaction waits out Timer J, D, K, I, L or M only to absorb retransmissions, and under load
 * thousands do at once: one Timeout each, with its closure, weighed more than what the
 * transaction still keeps. Every wait of one length ends in the order it began, so each length
 * is one FIFO line with one timer, armed for the line's head. A timer may fire a little before
 * the clock reads its end (node counts from the event loop's cached time): the line then waits
 * out the rest instead of ending anything early.
 */
import type { Clock } from './timers.ts';

/** A transaction in its last state: told once its wait is over. */
export interface Lingering {
  lingerEnded(): void;
}

export class LingerQueue {
  private readonly lines = new Map<number, LingerLine>();

  constructor(private readonly clock: Clock) {}

  /** txn.lingerEnded() runs ms from now (not before). */
  add(txn: Lingering, ms: number): void {
    let line = this.lines.get(ms);
    if (!line) {
      line = new LingerLine(this.clock, ms);
      this.lines.set(ms, line);
    }
    line.push(txn);
  }

  /** Transactions still waiting. */
  get size(): number {
    let n = 0;
    for (const line of this.lines.values()) n += line.size;
    return n;
  }

  /** Stops every timer; nobody is told (the layer is closing). */
  clear(): void {
    for (const line of this.lines.values()) line.clear();
    this.lines.clear();
  }
}

/** The waits of one length: transaction, end, transaction, end, … from `head` on. */
class LingerLine {
  private items: unknown[] = [];
  private head = 0;
  private timer: unknown;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
  ) {}

  get size(): number {
    return (this.items.length - this.head) / 2;
  }

  push(txn: Lingering): void {
    this.items.push(txn, this.clock.now() + this.ms);
    if (this.timer === undefined) this.arm();
  }

  clear(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.items = [];
    this.head = 0;
  }

  private arm(): void {
    const endsAt = this.items[this.head + 1] as number;
    // the clock is monotonic (timers.ts); never more than the wait itself all the same
    const wait = Math.min(this.ms, Math.max(0, endsAt - this.clock.now()));
    this.timer = this.clock.setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const due: Lingering[] = [];
    while (this.head < this.items.length && (this.items[this.head + 1] as number) <= now) {
      due.push(this.items[this.head] as Lingering);
      this.items[this.head] = undefined;
      this.head += 2;
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.items.length) this.arm();
    for (const txn of due) txn.lingerEnded();
  }
}
