/**
 * One request sent to the targets of one RFC 3263 resolution in turn (RFC 3263 4.3): when an
 * attempt fails with a transport error, a 503 from that server or a transaction timeout, the
 * next target gets a new client transaction (new branch) before the TU hears of any failure.
 * To the TU this is one client transaction whose request, bytes and target are the current
 * attempt's. docs/edge-transport.md §3.
 */
import type { Logger } from '../../log/logger.ts';
import type { SipHeader, SipRequest, SipResponse } from '../sip/message.ts';
import type { Target } from '../sip/transport.ts';
import { SlimEmitter } from './slim-emitter.ts';
import type { ClientTransaction, ClientTransactionEvents } from './transaction-types.ts';

export interface FailoverOptions {
  targets: readonly Target[];
  /** starts one attempt (a plain client transaction) to target */
  start: (target: Target) => ClientTransaction;
  logger: Logger;
}

export class FailoverClientTransaction extends SlimEmitter<ClientTransactionEvents> implements ClientTransaction {
  private readonly targets: readonly Target[];
  private readonly start: (target: Target) => ClientTransaction;
  private readonly log: Logger;
  private index = 0;
  private current: ClientTransaction;
  /** a response other than 100 reached the TU: from then on this server owns the request */
  private committed = false;
  private cancelled = false;

  constructor(opts: FailoverOptions) {
    super();
    if (opts.targets.length === 0) throw new Error('no target to send to');
    this.targets = opts.targets;
    this.start = opts.start;
    this.log = opts.logger;
    this.current = this.attach(this.start(this.targets[0]!));
  }

  get id(): string {
    return this.current.id;
  }
  get method(): string {
    return this.current.method;
  }
  get request(): SipRequest {
    return this.current.request;
  }
  get sent(): Buffer {
    return this.current.sent;
  }
  get target(): Target {
    return this.current.target;
  }
  get state(): string {
    return this.current.state;
  }
  get cancelTransaction(): ClientTransaction | undefined {
    return this.current.cancelTransaction;
  }

  /** A CANCEL ends the failover too: what the current attempt answers is the answer. */
  cancel(extraHeaders?: readonly SipHeader[]): SipRequest | undefined {
    this.cancelled = true;
    return this.current.cancel(extraHeaders);
  }

  private attach(attempt: ClientTransaction): ClientTransaction {
    attempt.on('response', (res: SipResponse) => {
      if (attempt !== this.current) return;
      // RFC 3263 4.3: a 503 from this server sends the request to the next one.
      if (res.status === 503 && this.next('503 from server')) return;
      if (res.status > 100) this.committed = true;
      this.emit('response', res);
    });
    attempt.on('timeout', () => {
      if (attempt !== this.current || this.next('transaction timeout')) return;
      this.emit('timeout');
    });
    attempt.on('transport-error', (err: Error) => {
      if (attempt !== this.current || this.next(`transport error: ${err.message}`)) return;
      this.emit('transport-error', err);
    });
    attempt.once('terminated', () => {
      // 'timeout' and 'transport-error' come right after 'terminated' for some attempts; once
      // they were handled, a failed-over attempt is no longer current and stays silent.
      queueMicrotask(() => {
        if (attempt === this.current) this.emit('terminated');
      });
    });
    return attempt;
  }

  /** Moves to the next target if there is one and failing over is still allowed. */
  private next(why: string): boolean {
    if (this.committed || this.cancelled || this.index + 1 >= this.targets.length) return false;
    const failed = this.targets[this.index];
    this.index++;
    const target = this.targets[this.index]!;
    this.log.info({ method: this.current.method, why, failed, next: target }, 'request failed over to next target');
    this.current = this.attach(this.start(target));
    return true;
  }
}
