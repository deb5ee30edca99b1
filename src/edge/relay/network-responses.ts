/**
 * Responses from the network to requests applications sent (docs/edge.md §4.4): the early
 * dialog a 1xx creates and the reliable ones passed up once (RFC 3262 §4), the dialog a 2xx to
 * INVITE or SUBSCRIBE creates, the ACK owed for a retransmitted 2xx (13.2.2.4), the end of a
 * dialog once its BYE is answered, internal 408/503 (8.1.3.1), and the hand-over to the app.
 */
import { getHeader, getHeaders, parseCSeq, serializeMessageText, tagOf, type SipResponse } from '../sip/message.ts';
import { createResponse } from '../sip/response-builder.ts';
import { uacDialogInit, type Dialog } from '../dialog/dialog.ts';
import { formatNetworkSip } from '../wire/wire-message.ts';
import type { RelayContext } from './relay-context.ts';
import type { Follower } from '../transaction/slim-emitter.ts';
import type { ClientTransactionEvents } from '../transaction/transaction-types.ts';
import { releaseDialog, type OutboundTxn } from './transaction-records.ts';
import { ackAndBye, endDialog } from './dialog-lifecycle.ts';
import { subscriptionTerminated } from './subscriptions.ts';

/** Wires a client transaction's events to the relay. */
export function followClient(ctx: RelayContext, record: OutboundTxn): void {
  record.client.follow(new ClientFollower(ctx, record));
}

/**
 * The relay's listener on one client transaction: one object with the listeners as methods
 * (SlimEmitter#follow), not four closures and their shared context, as it lives for as long as
 * the transaction lingers (up to 64*T1, docs/performance.md §15).
 */
class ClientFollower implements Follower<ClientTransactionEvents> {
  constructor(
    private readonly ctx: RelayContext,
    private readonly record: OutboundTxn,
  ) {}

  response(res: SipResponse): void {
    this.ctx.guard('response', () => onNetworkResponse(this.ctx, this.record, res));
  }

  timeout(): void {
    this.ctx.guard('timeout', () => synthesize(this.ctx, this.record, 408, 'Request Timeout'));
  }

  'transport-error'(err: Error): void {
    this.ctx.log.info({ err: err.message, method: this.record.client.method }, 'request could not be sent');
    this.ctx.guard('transport-error', () => synthesize(this.ctx, this.record, 503, 'Service Unavailable'));
  }

  /** emitted once (TransactionBase.terminate) */
  terminated(): void {
    this.ctx.outbound.delete(this.record.id);
  }
}

/** Timer B/F or a transport failure, reported to the app as if the peer had answered (8.1.3.1). */
function synthesize(ctx: RelayContext, record: OutboundTxn, status: number, reason: string): void {
  if (record.final) return;
  onNetworkResponse(ctx, record, createResponse(record.client.request, status, reason));
}

function onNetworkResponse(ctx: RelayContext, record: OutboundTxn, res: SipResponse): void {
  const target = record.client.target;
  // the method, not the request: once final, a client transaction keeps only its request line
  const isInvite = record.client.method === 'INVITE';
  if (isInvite && res.status >= 200 && res.status < 300) {
    if (record.final) {
      reAck(ctx, res);
      return;
    }
    onInvite2xx(ctx, record, res);
  }
  if (record.final) return;
  if (isInvite && res.status > 100 && res.status < 200 && !record.dialog && !onInvite1xx(ctx, record, res)) return;
  if (res.status >= 200) {
    record.final = true;
    afterFinal(ctx, record, res);
  }
  const dialogId = isInvite && res.status > 100 ? record.dialogId : record.dialog ? record.dialogId : '';
  if (record.final) releaseDialog(record);
  if (record.app.closed) return;
  const raw = serializeMessageText(res);
  record.app.send(
    formatNetworkSip({ bytes: raw.bytes, transport: target.transport, remoteAddress: target.address, remotePort: target.port, txnId: record.id, dialogId }, raw.text),
  );
}

/**
 * A 1xx to the app's INVITE: a To tag makes (or moves) the early dialog (12.1.2). Returns false
 * when it must not reach the app: a reliable one already passed up, or out of order (RFC 3262 §4).
 */
function onInvite1xx(ctx: RelayContext, record: OutboundTxn, res: SipResponse): boolean {
  const req = record.client.request;
  const remoteTag = tagOf(getHeader(res, 'To'));
  if (remoteTag && record.early?.remoteTag !== remoteTag) {
    // a new fork, or the first 1xx with a tag; one early dialog per INVITE is kept (drachtio's id has no To tag)
    if (record.early) endDialog(ctx, record.early, 'another fork answered');
    const init = uacDialogInit(req, res, { transport: record.client.target.transport, ownerAppId: record.app.id, ownerTags: record.app.tags, inviteWireTxnId: record.id, initialState: 'early' }, req.uri);
    if (init) {
      record.early = ctx.newDialog(init);
      ctx.dialogs.add(record.early);
    }
  }
  const rseq = getHeader(res, 'RSeq');
  const reliable = rseq !== undefined && getHeaders(res, 'Require').some((v) => /(^|,)\s*100rel\s*(,|$)/i.test(v));
  if (!reliable || !record.early) return true;
  if (!/^\s*\d+\s*$/.test(rseq)) return false;
  return record.early.reliable.receive(Number(rseq));
}

function onInvite2xx(ctx: RelayContext, record: OutboundTxn, res: SipResponse): void {
  const req = record.client.request;
  let dialog = record.dialog;
  if (dialog) {
    // re-INVITE accepted: its ACK is due now (13.2.2.4)
    dialog.refreshTarget(res);
    dialog.ackCSeq = parseCSeq(getHeader(req, 'CSeq') ?? '')?.seq ?? dialog.ackCSeq;
    dialog.inviteWireTxnId = record.id;
    dialog.ackFrom = 'app';
    dialog.transition('accepted');
  } else {
    // 13.2.2.4: the 2xx confirms the dialog; its route set and target come from the 2xx
    if (record.early) endDialog(ctx, record.early, 'confirmed by 2xx');
    record.early = undefined;
    dialog = newUacDialog(ctx, record, res, 'accepted');
    if (!dialog) return;
  }
  // Nobody will ACK: complete the handshake and hang up (the app is gone).
  if (record.app.closed) void ackAndBye(ctx, dialog);
}

function newUacDialog(ctx: RelayContext, record: OutboundTxn, res: SipResponse, initialState: 'accepted' | 'confirmed', kind: 'INVITE' | 'SUBSCRIBE' = 'INVITE'): Dialog | undefined {
  const init = uacDialogInit(record.client.request, res, { transport: record.client.target.transport, ownerAppId: record.app.id, ownerTags: record.app.tags, inviteWireTxnId: record.id, initialState, kind });
  if (!init) {
    ctx.log.warn({ callId: getHeader(res, 'Call-ID'), status: res.status }, 'response cannot form a dialog');
    return undefined;
  }
  const dialog = ctx.newDialog(init);
  ctx.dialogs.add(dialog);
  record.dialog = dialog;
  return dialog;
}

/** What a final response does to the dialog its request belongs to. */
function afterFinal(ctx: RelayContext, record: OutboundTxn, res: SipResponse): void {
  const req = record.client.request;
  if (req.method === 'INVITE' && res.status >= 300 && record.early) {
    endDialog(ctx, record.early, `INVITE answered ${res.status}`);
    record.early = undefined;
  }
  if (req.method === 'SUBSCRIBE' && res.status < 300 && !record.dialog) {
    newUacDialog(ctx, record, res, 'confirmed', 'SUBSCRIBE');
    return;
  }
  const dialog = record.dialog;
  const ending = req.method === 'BYE' || (req.method === 'NOTIFY' && subscriptionTerminated(req));
  if (!dialog || !ending || dialog.state !== 'terminating') return;
  dialog.closingRequests = Math.max(0, dialog.closingRequests - 1);
  if (req.method === 'BYE' && (res.status === 401 || res.status === 407)) {
    // drachtio-server keeps the dialog so srf can send the BYE again with credentials; if the
    // app never does, it goes after 64*T1 (docs/edge.md §4.6).
    dialog.startClosingTimer(64 * ctx.timers.T1, () => endDialog(ctx, dialog, 'challenged BYE not retried'));
    return;
  }
  if (dialog.closingRequests === 0) endDialog(ctx, dialog, `${req.method} answered ${res.status}`);
}

/** A retransmitted 2xx means our ACK was lost: send it again (13.2.2.4). */
export function reAck(ctx: RelayContext, res: SipResponse): void {
  const callId = getHeader(res, 'Call-ID');
  const fromTag = tagOf(getHeader(res, 'From'));
  const toTag = tagOf(getHeader(res, 'To'));
  const cseq = parseCSeq(getHeader(res, 'CSeq') ?? '');
  if (!callId || !fromTag || !toTag || !cseq) return;
  const ack = ctx.dialogs.matchResponse(callId, fromTag, toTag)?.lastAck;
  if (!ack || ack.cseq !== cseq.seq) return;
  void ctx.layer.sendRaw(Buffer.from(ack.latin1, 'latin1'), ack.target).catch(() => undefined);
}

export function onStrayResponse(ctx: RelayContext, res: SipResponse): boolean {
  const cseq = parseCSeq(getHeader(res, 'CSeq') ?? '');
  if (cseq?.method === 'INVITE' && res.status >= 200 && res.status < 300) {
    reAck(ctx, res);
    return true;
  }
  return false;
}
