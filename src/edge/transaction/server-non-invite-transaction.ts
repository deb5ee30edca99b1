/** Non-INVITE server transaction (RFC 3261 17.2.2). */
import { EventEmitter } from 'node:events';
import { serializeMessage } from '../sip/message.ts';
import type { SipRequest, SipResponse } from '../sip/message.ts';
import type { Flow, Target } from '../sip/transport.ts';
import { NamedTimers } from './named-timers.ts';
import { checkTransition } from './transaction-context.ts';
import type { TransactionContext } from './transaction-context.ts';
import type { ServerTransactionOptions } from './server-invite-transaction.ts';
import type { ServerTransaction, ServerTransactionEvents } from './transaction-types.ts';

export type ServerNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

const TRANSITIONS: Readonly<Record<ServerNonInviteState, readonly ServerNonInviteState[]>> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export class ServerNonInviteTransaction extends EventEmitter<ServerTransactionEvents> implements ServerTransaction {
  readonly id: string;
  readonly method: string;
  readonly request: SipRequest;
  readonly flow: Flow;
  readonly target: Target;
  private current: ServerNonInviteState = 'trying';
  private readonly ctx: TransactionContext;
  private readonly timers: NamedTimers;
  private lastResponse: Buffer | undefined;

  constructor(opts: ServerTransactionOptions) {
    super();
    this.id = opts.id;
    this.method = opts.request.method;
    this.request = opts.request;
    this.flow = opts.flow;
    this.target = opts.target;
    this.ctx = opts.ctx;
    this.timers = new NamedTimers(opts.ctx.clock);
  }

  get state(): ServerNonInviteState {
    return this.current;
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
    this.lastResponse = data;
    if (res.status < 200) {
      if (this.current === 'trying') this.transition('proceeding');
    } else {
      // 17.2.2: final → Completed, Timer J (0 on reliable transports).
      this.transition('completed');
      this.timers.start('J', this.target.transport === 'udp' ? this.ctx.timers.J : 0, () => this.terminate());
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
      if (this.current !== 'terminated') {
        this.ctx.logger.debug({ err, txn: this.id }, 'sip server transaction transport error');
        this.terminate(false);
        this.emit('transport-error', err as Error);
        this.emit('terminated');
      }
      throw err;
    }
  }

  private terminate(announce = true): void {
    if (this.current === 'terminated') return;
    this.transition('terminated');
    this.timers.stopAll();
    if (announce) this.emit('terminated');
  }

  private transition(to: ServerNonInviteState): void {
    checkTransition(TRANSITIONS, this.current, to, `server transaction ${this.id}`);
    this.current = to;
  }
}
