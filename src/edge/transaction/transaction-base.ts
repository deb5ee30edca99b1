/** What the four RFC 3261 17 state machines share: state, timers, termination, transport failure. */
import { EventEmitter } from 'node:events';
import type { SipRequest } from '../sip/message.ts';
import type { Target } from '../sip/transport.ts';
import { answerableCopy } from './lingering-state.ts';
import { NamedTimers } from './named-timers.ts';
import { checkTransition, type TransactionContext } from './transaction-context.ts';

/** The events every transaction emits; each kind adds its own. */
interface BaseEvents {
  'transport-error': [Error];
  terminated: [];
}

export abstract class TransactionBase<
  S extends string,
  E extends BaseEvents & Record<keyof E, unknown[]>,
> extends EventEmitter<E> {
  protected current: S;
  protected readonly timers: NamedTimers;
  private req: SipRequest;

  protected constructor(
    readonly id: string,
    request: SipRequest,
    readonly target: Target,
    protected readonly ctx: TransactionContext,
    private readonly table: Readonly<Record<S, readonly S[]>>,
    initial: S,
    /** e.g. "invite server transaction", for errors and logs */
    private readonly kind: string,
  ) {
    super();
    this.req = request;
    this.current = initial;
    this.timers = new NamedTimers(ctx.clock);
  }

  /** the request; once only answering it remains (a final response), just what that takes (lingering-state.ts) */
  get request(): SipRequest {
    return this.req;
  }

  /** Past the final response: keep no more of the request than an answer takes (lingering-state.ts). */
  protected keepOnlyAnswerable(): void {
    this.req = answerableCopy(this.req);
  }

  get state(): S {
    return this.current;
  }

  protected get terminated(): boolean {
    return this.current === 'terminated';
  }

  protected transition(to: S): void {
    checkTransition(this.table, this.current, to, `${this.kind} ${this.id}`);
    this.current = to;
  }

  protected terminate(announce = true): void {
    if (this.terminated) return;
    this.transition('terminated' as S);
    this.timers.stopAll();
    this.ctx.ended?.(this);
    if (announce) this.announce('terminated');
  }

  /** 17.1.4 / 17.2.4: a transport failure ends the transaction and is reported to the TU. */
  protected transportFailed(err: Error): void {
    if (this.terminated) return;
    this.ctx.logger.debug({ err, txn: this.id }, `sip ${this.kind} transport error`);
    this.terminate(false);
    this.announce('transport-error', err);
    this.announce('terminated');
  }

  /** Emits one of the shared events (the generic event map cannot be narrowed here). */
  private announce(event: 'terminated'): void;
  private announce(event: 'transport-error', err: Error): void;
  private announce(event: keyof BaseEvents, ...args: unknown[]): void {
    (this as EventEmitter).emit(event, ...args);
  }
}
