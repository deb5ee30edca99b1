/** Non-INVITE server transaction (RFC 3261 17.2.2). */
import { serializeMessage } from '../sip/message.ts';
import type { SipResponse } from '../sip/message.ts';
import type { Flow } from '../sip/transport.ts';
import { TransactionBase } from './transaction-base.ts';
import { answerable, ownBytes } from './lingering-state.ts';
import type { ServerTransactionOptions } from './server-invite-transaction.ts';
import type { ServerTransaction, ServerTransactionEvents } from './transaction-types.ts';

export type ServerNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

const TRANSITIONS: Readonly<Record<ServerNonInviteState, readonly ServerNonInviteState[]>> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export class ServerNonInviteTransaction extends TransactionBase<ServerNonInviteState, ServerTransactionEvents> implements ServerTransaction {
  readonly method: string;
  readonly flow: Flow;
  private lastResponse: Buffer | undefined;

  constructor(opts: ServerTransactionOptions) {
    super(opts.id, opts.request, opts.target, opts.ctx, TRANSITIONS, 'trying', 'server transaction');
    this.method = opts.request.method;
    this.flow = opts.flow;
  }

  /** 17.2.2: retransmissions are dropped in Trying and answered with the last response afterwards. */
  receiveRetransmission(): void {
    if ((this.current === 'proceeding' || this.current === 'completed') && this.lastResponse) {
      this.transmit(this.lastResponse).catch(() => undefined);
    }
  }

  async respond(res: SipResponse): Promise<Buffer> {
    if (this.current !== 'trying' && this.current !== 'proceeding') {
      throw new Error(`cannot send ${res.status} on ${this.method} transaction in state ${this.current}`);
    }
    const data = serializeMessage(res);
    if (res.status < 200) {
      this.lastResponse = data;
      if (this.current === 'trying') this.transition('proceeding');
    } else {
      // 17.2.2: final → Completed, Timer J (0 on reliable transports): it repeats this response
      // for retransmitted requests, and keeps no more of the request than an answer takes.
      this.transition('completed');
      const udp = this.target.transport === 'udp';
      this.lastResponse = udp ? ownBytes(data) : data;
      this.keepOnly(answerable);
      this.linger(udp ? this.ctx.timers.J : 0);
    }
    await this.transmit(data);
    return data;
  }

  dispose(): void {
    this.timers.stopAll();
    this.current = 'terminated';
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
