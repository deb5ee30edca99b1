/**
 * The UAS core's 2xx retransmission (RFC 3261 13.3.1.4): the 2xx is re-sent at T1, 2*T1, ...
 * capped at T2, until the ACK arrives; after 64*T1 without an ACK the caller ends the dialog
 * (typically with a BYE). The first transmission is the caller's; this only repeats it.
 *
 * Over a reliable transport (TCP) the 2xx is sent once and only Timer H runs, as drachtio-server
 * does (sip-dialog-controller.cpp starts Timer G only when `tport_is_dgram`): TCP already
 * delivers the 2xx, and a TCP peer such as sipp treats a repeated 2xx as an unexpected message.
 */
import type { Target } from '../sip/transport.ts';
import { NamedTimers } from './named-timers.ts';
import { deriveTimers, realClock } from './timers.ts';
import type { Clock, TimerConfig } from './timers.ts';

export interface Uas2xxRetransmitterOptions {
  layer: { sendRaw(data: Buffer, target: Target): Promise<void> };
  /** the 2xx bytes as first sent */
  response: Buffer;
  target: Target;
  timers: TimerConfig;
  clock?: Clock;
  onTimeout: () => void;
}

export class Uas2xxRetransmitter {
  private readonly opts: Uas2xxRetransmitterOptions;
  private readonly timers: NamedTimers;
  private readonly t: ReturnType<typeof deriveTimers>;
  private running = true;

  constructor(opts: Uas2xxRetransmitterOptions) {
    this.opts = opts;
    this.t = deriveTimers(opts.timers);
    this.timers = new NamedTimers(opts.clock ?? realClock);
    if (opts.target.transport === 'udp') this.schedule(this.t.T1);
    this.timers.start('H', this.t.H, () => {
      if (!this.running) return;
      this.stop();
      opts.onTimeout();
    });
  }

  ackReceived(): void {
    this.stop();
  }

  stop(): void {
    this.running = false;
    this.timers.stopAll();
  }

  get active(): boolean {
    return this.running;
  }

  private schedule(interval: number): void {
    this.timers.start('G', interval, () => {
      if (!this.running) return;
      // A failed retransmission is not fatal: the next one or Timer H decides.
      this.opts.layer.sendRaw(this.opts.response, this.opts.target).catch(() => undefined);
      this.schedule(Math.min(interval * 2, this.t.T2));
    });
  }
}
