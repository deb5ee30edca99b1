/**
 * Responses from the network to requests applications sent (docs/edge.md §4.4): the dialog a
 * 2xx to INVITE creates, the ACK owed for a retransmitted 2xx (13.2.2.4), internal 408/503 for a
 * silent peer or a failed transport (8.1.3.1), and the hand-over to the app.
 */
import { getHeader, parseCSeq, serializeMessage, tagOf, type SipResponse } from '../sip/message.ts';
import { createResponse } from '../sip/response-builder.ts';
import { uacDialogInit } from '../dialog/dialog.ts';
import { formatNetworkSip } from '../wire/wire-message.ts';
import type { RelayContext } from './relay-context.ts';
import type { OutboundTxn } from './transaction-records.ts';
import { ackAndBye } from './dialog-lifecycle.ts';

/** Wires a client transaction's events to the relay. */
export function followClient(ctx: RelayContext, record: OutboundTxn): void {
  const { client } = record;
  client.on('response', (res) => ctx.guard('response', () => onNetworkResponse(ctx, record, res)));
  client.on('timeout', () => ctx.guard('timeout', () => synthesize(ctx, record, 408, 'Request Timeout')));
  client.on('transport-error', (err) => {
    ctx.log.info({ err: err.message, method: client.method }, 'request could not be sent');
    ctx.guard('transport-error', () => synthesize(ctx, record, 503, 'Service Unavailable'));
  });
  client.once('terminated', () => ctx.outbound.delete(record.id));
}

/** Timer B/F or a transport failure, reported to the app as if the peer had answered (8.1.3.1). */
function synthesize(ctx: RelayContext, record: OutboundTxn, status: number, reason: string): void {
  if (record.final) return;
  onNetworkResponse(ctx, record, createResponse(record.client.request, status, reason));
}

function onNetworkResponse(ctx: RelayContext, record: OutboundTxn, res: SipResponse): void {
  const req = record.client.request;
  const target = record.client.target;
  if (req.method === 'INVITE' && res.status >= 200 && res.status < 300) {
    if (record.final) {
      reAck(ctx, res);
      return;
    }
    onInvite2xx(ctx, record, res);
  }
  if (record.final) return;
  if (res.status >= 200) record.final = true;
  if (record.app.closed) return;
  const raw = serializeMessage(res);
  const dialogId = req.method === 'INVITE' && res.status > 100 ? record.dialogId : record.dialog ? record.dialogId : '';
  record.app.send(
    formatNetworkSip({ bytes: raw.length, transport: target.transport, remoteAddress: target.address, remotePort: target.port, txnId: record.id, dialogId }, raw.toString('utf8')),
  );
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
    const init = uacDialogInit(req, res, { transport: record.client.target.transport, ownerAppId: record.app.id, inviteWireTxnId: record.id });
    if (!init) {
      ctx.log.warn({ callId: getHeader(res, 'Call-ID') }, '2xx cannot form a dialog');
      return;
    }
    dialog = ctx.newDialog(init);
    ctx.dialogs.add(dialog);
    record.dialog = dialog;
  }
  // Nobody will ACK: complete the handshake and hang up (the app is gone).
  if (record.app.closed) void ackAndBye(ctx, dialog);
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
  void ctx.layer.sendStateless(ack.ack, ack.target).catch(() => undefined);
}

export function onStrayResponse(ctx: RelayContext, res: SipResponse): void {
  const cseq = parseCSeq(getHeader(res, 'CSeq') ?? '');
  if (cseq?.method === 'INVITE' && res.status >= 200 && res.status < 300) reAck(ctx, res);
}
