/** Non-INVITE client transaction (RFC 3261 17.1.2). */
import { serializeMessage } from '../sip/message.ts';
import type { SipRequest, SipResponse } from '../sip/message.ts';
import type { Target } from '../sip/transport.ts';
import type { TransactionContext } from './transaction-context.ts';
import { TransactionBase } from './transaction-base.ts';
import { EMPTY, requestLine } from './lingering-state.ts';
import type { ClientTransaction, ClientTransactionEvents } from './transaction-types.ts';

export type ClientNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

const TRANSITIONS: Readonly<Record<ClientNonInviteState, readonly ClientNonInviteState[]>> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export interface ClientNonInviteOptions {
  id: string;
  /** the request with our Via already on top */
  request: SipRequest;
  target: Target;
  ctx: TransactionContext;
}

export class ClientNonInviteTransaction extends TransactionBase<ClientNonInviteState, ClientTransactionEvents> implements ClientTransaction {
  readonly method: string;
  /** the request's bytes, kept while Timer E may repeat them (Trying, Proceeding) */
  private bytes: Buffer | undefined;
  readonly cancelTransaction = undefined;

  constructor(opts: ClientNonInviteOptions) {
    super(opts.id, opts.request, opts.target, opts.ctx, TRANSITIONS, 'trying', 'client transaction');
    this.method = opts.request.method;
    this.bytes = serializeMessage(opts.request);
  }

  /** bytes as sent (with Via); empty once a final response arrived */
  get sent(): Buffer {
    return this.bytes ?? EMPTY;
  }

  /** 17.1.2.2: send; Timer E only for unreliable transports; Timer F always. */
  start(): void {
    this.transmit();
    const t = this.ctx.timers;
    if (this.target.transport === 'udp') this.scheduleE(t.E);
    this.timers.start('F', t.F, () => {
      if (this.current !== 'trying' && this.current !== 'proceeding') return;
      this.ctx.logger.debug({ txn: this.id }, 'sip client transaction timed out');
      this.terminate();
      this.emit('timeout');
    });
  }

  receiveResponse(res: SipResponse): void {
    if (this.current !== 'trying' && this.current !== 'proceeding') return; // 17.1.2.2: Completed absorbs retransmits
    if (res.status < 200) {
      if (this.current === 'trying') this.transition('proceeding');
      this.emit('response', res);
      return;
    }
    // 17.1.2.2: a final response → Completed, Timer K (0 on reliable transports).
    this.transition('completed');
    this.bytes = undefined;
    this.timers.stop('E');
    this.timers.stop('F');
    this.linger(this.target.transport === 'udp' ? this.ctx.timers.K : 0);
    this.emit('response', res);
    // the TU has seen the final response; Completed only absorbs retransmissions (Timer K)
    this.keepOnly(requestLine);
  }

  /** Non-INVITE requests cannot be cancelled (RFC 3261 9.1). */
  cancel(): undefined {
    return undefined;
  }

  dispose(): void {
    this.timers.stopAll();
    this.current = 'terminated';
  }

  /** 17.1.2.2: E doubles up to T2 in Trying; in Proceeding it is T2. */
  private scheduleE(interval: number): void {
    this.timers.start('E', interval, () => {
      if (this.current !== 'trying' && this.current !== 'proceeding') return;
      this.transmit();
      const t = this.ctx.timers;
      this.scheduleE(this.current === 'proceeding' ? t.T2 : Math.min(interval * 2, t.T2));
    });
  }

  private transmit(): void {
    if (!this.bytes) return;
    this.ctx.send(this.bytes, this.target).catch((err: Error) => this.transportFailed(err));
  }

}

