/**
 * INVITE client transaction (RFC 3261 17.1.1, with RFC 6026's Accepted state).
 *
 * A 2xx moves the transaction to Accepted for Timer M (64*T1) instead of Terminated, so that
 * retransmitted 2xx responses still reach this transaction's 'response' listeners (RFC 6026 8.4)
 * and the TU can ACK each of them again.
 */
import { addHeader, getHeader, getHeaders, serializeMessage } from '../sip/message.ts';
import type { SipHeader, SipRequest, SipResponse } from '../sip/message.ts';
import { canonicalHeaderKey } from '../sip/header-names.ts';
import { parseCSeq } from '../sip/header-values.ts';
import type { Target } from '../sip/transport.ts';
import type { TransactionContext } from './transaction-context.ts';
import { TransactionBase } from './transaction-base.ts';
import { EMPTY, ownBytes, requestLine } from './lingering-state.ts';
import type { ClientTransaction, ClientTransactionEvents } from './transaction-types.ts';

export type ClientInviteState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

const TRANSITIONS: Readonly<Record<ClientInviteState, readonly ClientInviteState[]>> = {
  calling: ['proceeding', 'accepted', 'completed', 'terminated'],
  proceeding: ['accepted', 'completed', 'terminated'],
  accepted: ['terminated'],
  completed: ['terminated'],
  terminated: [],
};

export interface ClientInviteOptions {
  id: string;
  /** the INVITE with our Via already on top */
  request: SipRequest;
  target: Target;
  ctx: TransactionContext;
  /** sends a CANCEL as its own non-INVITE client transaction (RFC 3261 9.1) */
  startCancel: (cancel: SipRequest) => ClientTransaction;
}

export class ClientInviteTransaction extends TransactionBase<ClientInviteState, ClientTransactionEvents> implements ClientTransaction {
  readonly method = 'INVITE';
  /** the INVITE's bytes, kept while Timer A may repeat them (Calling) */
  private bytes: Buffer | undefined;
  /** let go of once final (its closure holds the layer's target and branch for the CANCEL) */
  private startCancel: ((cancel: SipRequest) => ClientTransaction) | undefined;
  private cancelRequest: SipRequest | undefined;
  private cancelTxn: ClientTransaction | undefined;
  private ackBytes: Buffer | undefined;

  constructor(opts: ClientInviteOptions) {
    super(opts.id, opts.request, opts.target, opts.ctx, TRANSITIONS, 'calling', 'invite client transaction');
    this.startCancel = opts.startCancel;
    this.bytes = serializeMessage(opts.request);
  }

  /** bytes as sent (with Via); empty once no retransmission can follow (past Calling) */
  get sent(): Buffer {
    return this.bytes ?? EMPTY;
  }

  get cancelTransaction(): ClientTransaction | undefined {
    return this.cancelTxn;
  }

  /** 17.1.1.2: send the INVITE; Timer A only for unreliable transports; Timer B always. */
  start(): void {
    this.transmit(this.sent);
    const t = this.ctx.timers;
    if (this.target.transport === 'udp') this.scheduleA(t.A);
    this.timers.start('B', t.B, () => this.onTimerB());
  }

  receiveResponse(res: SipResponse): void {
    const s = res.status;
    switch (this.current) {
      case 'calling':
      case 'proceeding':
        this.timers.stop('A');
        this.timers.stop('B');
        this.bytes = undefined;
        if (s < 200) {
          // 17.1.1.2: a provisional moves Calling to Proceeding; 9.1: a pending CANCEL may go now.
          if (this.current === 'calling') this.transition('proceeding');
          this.emit('response', res);
          this.sendPendingCancel();
        } else if (s < 300) {
          // RFC 6026 7.2: 2xx in Calling or Proceeding → Accepted, Timer M.
          this.transition('accepted');
          this.cancelRequest = undefined;
          this.startCancel = undefined;
          this.linger(this.ctx.timers.M);
          this.emit('response', res);
          // the TU has made its dialog from the INVITE; Accepted only passes 2xx retransmissions up
          this.keepOnly(requestLine);
        } else {
          // 17.1.1.2: 300-699 → Completed, ACK sent, Timer D (0 on reliable transports).
          this.transition('completed');
          this.cancelRequest = undefined;
          this.startCancel = undefined;
          this.ackBytes = ownBytes(serializeMessage(this.buildAck(res)));
          this.transmit(this.ackBytes);
          this.linger(this.target.transport === 'udp' ? this.ctx.timers.D : 0);
          this.emit('response', res);
          this.keepOnly(requestLine);
        }
        return;
      case 'accepted':
        // RFC 6026 7.2: retransmitted 2xx go to the TU; anything else is discarded.
        if (s >= 200 && s < 300) this.emit('response', res);
        return;
      case 'completed':
        // 17.1.1.2: a retransmitted final response is answered with the same ACK, not passed up.
        if (s >= 300 && this.ackBytes) this.transmit(this.ackBytes);
        return;
      case 'terminated':
        return;
    }
  }

  cancel(extraHeaders: readonly SipHeader[] = []): SipRequest | undefined {
    if (this.current !== 'calling' && this.current !== 'proceeding') return undefined;
    if (this.cancelRequest) return this.cancelRequest;
    this.cancelRequest = this.buildCancel(extraHeaders);
    // 9.1: a CANCEL must not be sent before a provisional response was received.
    if (this.current === 'proceeding') this.sendPendingCancel();
    return this.cancelRequest;
  }

  /** Stops every timer without emitting anything (the layer is closing). */
  dispose(): void {
    this.timers.stopAll();
    this.current = 'terminated';
  }

  private sendPendingCancel(): void {
    if (!this.cancelRequest || this.cancelTxn || !this.startCancel) return;
    this.cancelTxn = this.startCancel(this.cancelRequest);
  }

  /** 17.1.1.2: Timer A doubles with no T2 cap for INVITE. */
  private scheduleA(interval: number): void {
    this.timers.start('A', interval, () => {
      if (this.current !== 'calling' || !this.bytes) return;
      this.transmit(this.bytes);
      this.scheduleA(interval * 2);
    });
  }

  private onTimerB(): void {
    if (this.current !== 'calling') return;
    this.ctx.logger.debug({ txn: this.id }, 'sip invite client transaction timed out');
    this.terminate();
    this.emit('timeout');
  }

  private transmit(data: Buffer): void {
    this.ctx.send(data, this.target).catch((err: Error) => this.transportFailed(err));
  }


  /** 17.1.1.3: the ACK for a non-2xx final response. */
  private buildAck(res: SipResponse): SipRequest {
    const ack: SipRequest = { kind: 'request', method: 'ACK', uri: this.request.uri, headers: [], body: Buffer.alloc(0) };
    copyDialogHeaders(this.request, ack, getHeader(res, 'to') ?? getHeader(this.request, 'to'), 'ACK');
    return ack;
  }

  /** 9.1: CANCEL with the INVITE's Request-URI, Call-ID, From, To, CSeq number, top Via and Route. */
  private buildCancel(extraHeaders: readonly SipHeader[]): SipRequest {
    const cancel: SipRequest = { kind: 'request', method: 'CANCEL', uri: this.request.uri, headers: [], body: Buffer.alloc(0) };
    copyDialogHeaders(this.request, cancel, getHeader(this.request, 'to'), 'CANCEL');
    for (const h of extraHeaders) {
      if (!CANCEL_FIXED_HEADERS.has(canonicalHeaderKey(h.name))) addHeader(cancel, h.name, h.value);
    }
    return cancel;
  }
}

/** 9.1: these come from the INVITE (or are the transport's); a caller's value is ignored. */
const CANCEL_FIXED_HEADERS = new Set(['via', 'route', 'record-route', 'max-forwards', 'from', 'to', 'call-id', 'cseq', 'content-length', 'content-type', 'contact']);

function copyDialogHeaders(invite: SipRequest, out: SipRequest, to: string | undefined, method: string): void {
  const via = getHeader(invite, 'via');
  if (via !== undefined) addHeader(out, 'Via', via);
  for (const r of getHeaders(invite, 'route')) addHeader(out, 'Route', r);
  addHeader(out, 'Max-Forwards', '70');
  const from = getHeader(invite, 'from');
  if (from !== undefined) addHeader(out, 'From', from);
  if (to !== undefined) addHeader(out, 'To', to);
  const callId = getHeader(invite, 'call-id');
  if (callId !== undefined) addHeader(out, 'Call-ID', callId);
  const seq = parseCSeq(getHeader(invite, 'cseq') ?? '')?.seq ?? 1;
  addHeader(out, 'CSeq', `${seq} ${method}`);
}
