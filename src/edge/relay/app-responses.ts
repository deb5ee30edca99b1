/**
 * Responses an application sends to requests from the network (docs/edge.md §4.2): the edge
 * completes them (tags, Contact, Record-Route), sends them on the server transaction, keeps a 2xx
 * to INVITE going until its ACK, and echoes what it sent so srf can build its Dialog.
 */
import { getHeader, parseCSeq, type SipResponse } from '../sip/message.ts';
import { uasDialogInit } from '../dialog/dialog.ts';
import type { AppConnection } from '../wire/app-registry.ts';
import { formatNok, formatResponseSent } from '../wire/wire-message.ts';
import { buildResponse } from '../uas-response-builder.ts';
import type { RelayContext } from './relay-context.ts';
import { moveInbound } from './transaction-records.ts';
import { startRetransmitting } from './dialog-lifecycle.ts';

export async function appResponse(ctx: RelayContext, app: AppConnection, msgId: string, txnId: string, appRes: SipResponse): Promise<void> {
  const record = ctx.inbound.get(txnId);
  if (!record || record.app !== app) {
    app.send(formatNok(msgId, 'unknown transaction'));
    return;
  }
  if (record.state === 'cancelled') {
    app.send(formatNok(msgId, 'request was cancelled'));
    return;
  }
  if (record.state === 'final-sent') {
    app.send(formatNok(msgId, 'final response already sent'));
    return;
  }
  const req = record.request;
  const res = buildResponse(req, appRes, { toTag: record.toTag, local: ctx.local(), transport: record.flow.transport });
  const isFinal = res.status >= 200;
  if (isFinal) moveInbound(record, 'final-sent');
  const inviteAccepted = req.method === 'INVITE' && res.status >= 200 && res.status < 300;
  let dialog = record.dialog;
  let releaseHeld: ((settle: boolean) => void) | undefined;
  let created = false;
  if (inviteAccepted) {
    if (!dialog) {
      const init = uasDialogInit(req, res, { transport: record.flow.transport, flow: record.flow, ownerAppId: app.id, inviteWireTxnId: record.id });
      if (!init) {
        moveInbound(record, 'pending');
        app.send(formatNok(msgId, 'cannot form a dialog (missing Contact, tags or CSeq)'));
        return;
      }
      dialog = ctx.newDialog(init);
      ctx.dialogs.add(dialog);
      created = true;
    } else {
      // re-INVITE accepted: wait for its ACK, take the new remote target (12.2.2)
      dialog.refreshTarget(req);
      dialog.ackCSeq = parseCSeq(getHeader(req, 'CSeq') ?? '')?.seq ?? dialog.ackCSeq;
      dialog.inviteWireTxnId = record.id;
      dialog.ackFrom = 'network';
      dialog.transition('accepted');
    }
    releaseHeld = dialog.delivery.hold();
  }
  let bytes: Buffer;
  try {
    bytes = await record.server.respond(res);
  } catch (err) {
    if (isFinal) moveInbound(record, 'pending');
    releaseHeld?.(false);
    if (created && dialog) {
      dialog.stop();
      ctx.dialogs.delete(dialog);
    }
    app.send(formatNok(msgId, `response not sent: ${err instanceof Error ? err.message : String(err)}`));
    return;
  }
  if (inviteAccepted && dialog) startRetransmitting(ctx, dialog, bytes, record.server.target);
  const dialogId = req.method === 'INVITE' && res.status > 100 ? (dialog?.id ?? record.dialogId) : record.dialogId;
  const target = record.server.target;
  app.send(formatResponseSent(msgId, { bytes: bytes.length, transport: target.transport, address: target.address, port: target.port, txnId: record.id }, dialogId, bytes.toString('utf8')));
  releaseHeld?.(true);
}
