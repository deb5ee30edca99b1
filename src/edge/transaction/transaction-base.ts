/** What the four RFC 3261 17 state machines share: state, timers, termination, transport failure. */
import type { SipRequest } from '../sip/message.ts';
import type { Target } from '../sip/transport.ts';
import { type Answerable, answerableRequest } from './lingering-state.ts';
import type { Lingering } from './linger-queue.ts';
import { NamedTimers } from './named-timers.ts';
import { SlimEmitter } from './slim-emitter.ts';
import { checkTransition, type TransactionContext } from './transaction-context.ts';

/** The events every transaction emits; each kind adds its own. */
interface BaseEvents {
  'transport-error': [Error];
  terminated: [];
}

export abstract class TransactionBase<
  S extends string,
  E extends BaseEvents & Record<keyof E, unknown[]>,
> extends SlimEmitter<E> implements Lingering {
  protected current: S;
  protected readonly timers: NamedTimers;
  /** the request; undefined once trimmed to `trimmed` (until someone reads it again) */
  private req: SipRequest | undefined;
  private trimmed: Answerable | undefined;
  /** in its last wait, on the layer's linger queue */
  private lingering = false;

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

  /**
   * the request; once only answering it remains (a final response), just what that takes; for a
   * client transaction, just its request line (lingering-state.ts)
   */
  get request(): SipRequest {
    return (this.req ??= answerableRequest(this.trimmed!));
  }

  /**
   * Past the final response: keep no more of the request than `trim` keeps (lingering-state.ts):
   * `answerable` for a server transaction, `requestLine` for a client one.
   */
  protected keepOnly(trim: (req: SipRequest) => Answerable): void {
    this.trimmed = trim(this.request);
    this.req = undefined;
  }

  /**
   * The last state's wait (Timer J, D, K, I, L or M): ms on the layer's shared queue rather than
   * a timer of its own, then terminated (docs/performance.md §9).
   */
  protected linger(ms: number): void {
    this.timers.stopAll();
    this.lingering = true;
    this.ctx.linger(this, ms);
  }

  lingerEnded(): void {
    if (!this.lingering) return;
    this.lingering = false;
    this.terminate();
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
    this.lingering = false;
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
    (this as SlimEmitter<BaseEvents>).emit(event, ...(args as [Error]));
  }
}
