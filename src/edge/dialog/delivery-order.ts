/**
 * Keeps a dialog's in-dialog traffic to the application behind the 2xx echo that creates the
 * dialog in srf (docs/edge.md §4.3).
 *
 * srf builds its Dialog from the echo of the 2xx the app sent, and the app attaches its 'ack' and
 * 'destroy' listeners a promise tick later. srf handles every frame of one TCP read in one
 * synchronous loop, so an ACK or BYE written right behind the echo may be read in the same chunk
 * and handled before those listeners exist. srf never answers a frame the edge sends, so there is
 * no acknowledgement to wait for; what separates the frames is time on the injected clock: held
 * deliveries start `settleMs` after the echo was written and follow each other `settleMs` apart
 * (srf emits a dialog's 'ack' a tick after reading it, and a BYE in the same read would remove the
 * listeners first). With drachtio-server a network round trip does the same.
 *
 * An app on the in-process link needs no time: the link hands each in-dialog request to srf one
 * event-loop turn after what it delivered before (docs/performance.md §2), so with `settleMs` 0
 * the held deliveries go out right behind the echo, in order.
 *
 * open:     deliveries go out at once
 * held:     the echo is not yet written; deliveries queue
 * settling: the echo was written; queued deliveries go out one per settle interval
 */
import type { Clock } from '../transaction/timers.ts';

export type DeliveryState = 'open' | 'held' | 'settling';

export class DeliveryOrder {
  private state: DeliveryState = 'open';
  /** what waits while held or settling; made on the first wait */
  private queue: Array<() => void> | undefined;
  private timer: unknown;

  constructor(
    private readonly clock: Clock,
    private readonly settleMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  get current(): DeliveryState {
    return this.state;
  }

  get pending(): number {
    return this.queue?.length ?? 0;
  }

  /** Runs fn now when nothing is held, else after what is already queued. */
  run(fn: () => void): void {
    if (this.state === 'open') this.call(fn);
    else (this.queue ??= []).push(fn);
  }

  /**
   * Holds deliveries until the returned function is called: with `settle` (the echo was written)
   * they start one settle interval later; without (the response was not sent) at once.
   */
  hold(): (settle: boolean) => void {
    this.cancelTimer();
    this.state = 'held';
    let done = false;
    return (settle) => {
      if (done) return;
      done = true;
      if (this.state !== 'held') return;
      if (!settle || this.settleMs === 0) {
        this.state = 'settling';
        this.drain(false);
        return;
      }
      this.state = 'settling';
      this.timer = this.clock.setTimeout(() => this.step(), this.settleMs);
    };
  }

  /** Drops what is queued (the dialog ended) and stops the timer. */
  close(): void {
    this.cancelTimer();
    this.queue = undefined;
    this.state = 'open';
  }

  private step(): void {
    this.timer = undefined;
    if (this.state !== 'settling') return;
    const next = this.queue?.shift();
    if (!next) {
      this.state = 'open';
      return;
    }
    this.call(next);
    if (this.state === 'settling') this.timer = this.clock.setTimeout(() => this.step(), this.settleMs);
  }

  /** Without a settle interval: everything queued goes out now, in order. */
  private drain(_settle: false): void {
    while (this.state === 'settling' && this.queue !== undefined && this.queue.length > 0) this.call(this.queue.shift()!);
    if (this.state === 'settling') this.state = 'open';
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onError(err);
    }
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
