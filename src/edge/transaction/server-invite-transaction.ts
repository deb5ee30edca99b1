/**
 * INVITE server transaction (RFC 3261 17.2.1, with RFC 6026's Accepted state).
 *
 * A 2xx moves the transaction to Accepted for Timer L (64*T1): retransmitted INVITEs are absorbed
 * there and the TU retransmits the 2xx itself (13.3.1.4, Uas2xxRetransmitter) through respond().
 */
import { serializeMessage } from '../sip/message.ts';
import type { SipRequest, SipResponse } from '../sip/message.ts';
import { createResponse } from '../sip/response-builder.ts';
import type { Flow, Target } from '../sip/transport.ts';
import type { TransactionContext } from './transaction-context.ts';
import { TransactionBase } from './transaction-base.ts';
import { answerable, ownBytes } from './lingering-state.ts';
import type { ServerTransaction, ServerTransactionEvents } from './transaction-types.ts';

export type ServerInviteState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

const TRANSITIONS: Readonly<Record<ServerInviteState, readonly ServerInviteState[]>> = {
  proceeding: ['accepted', 'completed', 'terminated'],
  accepted: ['terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

export interface ServerTransactionOptions {
  id: string;
  request: SipRequest;
  flow: Flow;
  /** where responses go (RFC 3261 18.2.2) */
  target: Target;
  ctx: TransactionContext;
}

export class ServerInviteTransaction extends TransactionBase<ServerInviteState, ServerTransactionEvents> implements ServerTransaction {
  readonly method = 'INVITE';
  readonly flow: Flow;
  private lastResponse: Buffer | undefined;

  constructor(opts: ServerTransactionOptions) {
    super(opts.id, opts.request, opts.target, opts.ctx, TRANSITIONS, 'proceeding', 'invite server transaction');
    this.flow = opts.flow;
  }

  /** 17.2.1: 100 Trying at once, so the client stops retransmitting while the TU decides. */
  start(): void {
    this.lastResponse = serializeMessage(createResponse(this.request, 100));
    this.transmit(this.lastResponse).catch(() => undefined);
  }

  /** 17.2.1: a retransmitted INVITE gets the last provisional (Proceeding) or the final (Completed) again. */
  receiveRetransmission(): void {
    if ((this.current === 'proceeding' || this.current === 'completed') && this.lastResponse) {
      this.transmit(this.lastResponse).catch(() => undefined);
    }
  }

  /**
   * An ACK with this transaction's branch. Returns true when absorbed (the ACK for a non-2xx
   * final, 17.2.1); false when the TU must see it (RFC 6026 7.1: ACK in Accepted).
   */
  receiveAck(): boolean {
    if (this.current === 'completed') {
      this.transition('confirmed');
      this.lastResponse = undefined;
      this.timers.stop('G');
      this.timers.stop('H');
      // Timer I: 0 on reliable transports.
      this.linger(this.target.transport === 'udp' ? this.ctx.timers.I : 0);
      return true;
    }
    return this.current === 'confirmed';
  }

  async respond(res: SipResponse): Promise<Buffer> {
    const s = res.status;
    const data = serializeMessage(res);
    if (this.current === 'proceeding') {
      if (s < 200) {
        this.lastResponse = data;
      } else if (s < 300) {
        // RFC 6026 7.1: 2xx → Accepted, Timer L. The TU retransmits the 2xx (13.3.1.4), so the
        // transaction keeps neither it nor more of the INVITE than an answer takes.
        this.transition('accepted');
        this.lastResponse = undefined;
        this.keepOnly(answerable);
        this.linger(this.ctx.timers.L);
      } else {
        // 17.2.1: 300-699 → Completed; Timer G (unreliable transports only) and Timer H.
        this.transition('completed');
        this.lastResponse = ownBytes(data);
        this.keepOnly(answerable);
        if (this.target.transport === 'udp') this.scheduleG(this.ctx.timers.G);
        this.timers.start('H', this.ctx.timers.H, () => {
          this.ctx.logger.debug({ txn: this.id }, 'sip invite server transaction: no ACK');
          this.terminate();
          this.emit('timeout');
        });
      }
    } else if (!(this.current === 'accepted' && s >= 200 && s < 300)) {
      // RFC 6026 7.1: in Accepted only 2xx retransmissions from the TU may pass.
      throw new Error(`cannot send ${s} on INVITE transaction in state ${this.current}`);
    }
    await this.transmit(data);
    return data;
  }

  dispose(): void {
    this.timers.stopAll();
    this.current = 'terminated';
  }

  /** 17.2.1: G doubles up to T2 while Completed. */
  private scheduleG(interval: number): void {
    this.timers.start('G', interval, () => {
      if (this.current !== 'completed' || !this.lastResponse) return;
      this.transmit(this.lastResponse).catch(() => undefined);
      this.scheduleG(Math.min(interval * 2, this.ctx.timers.T2));
    });
  }

  private async transmit(data: Buffer): Promise<void> {
    try {
      await this.ctx.send(data, this.target);
    } catch (err) {
      this.transportFailed(err as Error);
      throw err;
    }
  }

}
