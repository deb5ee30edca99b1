/**
 * Responses an application sends to requests from the network (docs/edge.md §4.2): the edge
 * completes them (tags, Contact, Record-Route), sends them on the server transaction, makes a
 * 1xx reliable when the app asked with `Require: 100rel` (RFC 3262), keeps a 2xx to INVITE going
 * until its ACK, creates SUBSCRIBE dialogs on a 2xx (RFC 6665), and echoes what it sent so srf
 * can build its Dialog.
 */
import { getHeader, getHeaders, parseCSeq, serializeMessage, setHeader, type SipResponse } from '../sip/message.ts';
import { isToken, splitTopLevelCommas } from '../sip/header-names.ts';
import { uasDialogInit, type Dialog } from '../dialog/dialog.ts';
import type { AppConnection } from '../wire/app-registry.ts';
import { formatNok, formatResponseSent } from '../wire/wire-message.ts';
import { buildResponse } from '../uas-response-builder.ts';
import type { RelayContext } from './relay-context.ts';
import { moveInbound, releaseDialog, type InboundTxn } from './transaction-records.ts';
import { endDialog, startRetransmitting } from './dialog-lifecycle.ts';
import { ownString } from '../../sip/own-string.ts';

/** The tag of the To the app wrote, if any, is a token (RFC 3261 25.1 tag = token). */
function appToTagIsToken(appRes: SipResponse): boolean {
  const to = getHeader(appRes, 'To');
  if (to === undefined) return true;
  const m = /;\s*tag\s*=\s*([^;]*)/i.exec(to);
  return m === null || isToken((m[1] ?? '').trim());
}

function hasOptionTag(values: string[], tag: string): boolean {
  return values.some((v) => splitTopLevelCommas(v).some((t) => t.trim().toLowerCase() === tag));
}

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
    app.send(formatNok(msgId, record.proxy ? 'request is being proxied' : 'final response already sent'));
    return;
  }
  const req = record.request;
  if (!appToTagIsToken(appRes)) {
    // drachtio-server hands the app's To to sofia-sip, whose To parser refuses a tag that is no
    // token (RFC 3261 25.1), so the response is not sent; a final that fails becomes sofia's
    // 500 (docs/edge.md §4.2). Sent, it would leave the peer unable to ACK or BYE.
    app.send(formatNok(msgId, 'Unknown server error sending response'));
    if (appRes.status >= 200 && moveInbound(record, 'final-sent')) ctx.respondLocally(record.server, 500, record.toTag);
    return;
  }
  const res = buildResponse(req, appRes, { toTag: record.toTag, local: ctx.local(), transport: record.flow.transport });
  const isInvite = req.method === 'INVITE';
  // the dialog-creating INVITE (its early dialog, if any, is still early), not a re-INVITE
  const initialInvite = isInvite && (record.dialog === undefined || record.dialog.state === 'early');
  const reliable = isInvite && res.status > 100 && res.status < 200 && hasOptionTag(getHeaders(appRes, 'Require'), '100rel');
  if (reliable && !hasOptionTag([...getHeaders(req, 'Supported'), ...getHeaders(req, 'Require')], '100rel')) {
    // what drachtio-server answers when sofia refuses (RFC 3262 §3: the UAC must support it)
    app.send(formatNok(msgId, 'Remote endpoint does not support 100rel'));
    return;
  }
  if (res.status >= 200) moveInbound(record, 'final-sent');

  // RFC 3261 12.1.1: a 1xx with a To tag creates the early dialog a PRACK or UPDATE names
  // (an INVITE without Contact has none; only a reliable 1xx then cannot be sent).
  if (initialInvite && res.status > 100 && res.status < 200 && !record.dialog && !createDialog(ctx, record, res, app, 'early') && reliable) {
    app.send(formatNok(msgId, 'cannot form a dialog (missing Contact, tags or CSeq)'));
    return;
  }
  if (reliable && record.dialog) {
    await sendReliable(ctx, app, msgId, record, record.dialog, res);
    return;
  }
  if (isInvite && res.status >= 200 && res.status < 300) {
    await sendInvite2xx(ctx, app, msgId, record, res, initialInvite);
    return;
  }
  const subscribeAccepted = req.method === 'SUBSCRIBE' && res.status >= 200 && res.status < 300;
  let dialog: Dialog | undefined;
  if (subscribeAccepted && !record.dialog) {
    dialog = createDialog(ctx, record, res, app, 'confirmed', 'SUBSCRIBE');
    if (!dialog) {
      moveInbound(record, 'pending');
      app.send(formatNok(msgId, 'cannot form a dialog (missing Contact, tags or CSeq)'));
      return;
    }
  }
  let bytes: Buffer;
  try {
    bytes = await sendFinalOrProvisional(record, res);
  } catch (err) {
    if (res.status >= 200) moveInbound(record, 'pending');
    if (dialog) endDialog(ctx, dialog, 'response not sent');
    app.send(formatNok(msgId, `response not sent: ${err instanceof Error ? err.message : String(err)}`));
    return;
  }
  // A failed INVITE leaves no early dialog behind (12.3).
  if (initialInvite && res.status >= 300 && record.dialog?.state === 'early') endDialog(ctx, record.dialog, `INVITE answered ${res.status}`);
  echo(app, msgId, record, bytes, isInvite && res.status > 100 ? (record.dialog?.id ?? record.dialogId) : (dialog?.id ?? (record.dialog ? record.dialogId : '')));
  if (res.status >= 200) releaseDialog(record);
}

/** A 1xx or a non-2xx final: sent at once; a failure ends the reliable provisionals (RFC 3262 §3). */
function sendFinalOrProvisional(record: InboundTxn, res: SipResponse): Promise<Buffer> {
  const early = record.dialog?.state === 'early' ? record.dialog : undefined;
  if (early && res.status >= 300) early.stopReliable();
  return record.server.respond(res);
}

function createDialog(ctx: RelayContext, record: InboundTxn, res: SipResponse, app: AppConnection, initialState: 'early' | 'confirmed', kind: 'INVITE' | 'SUBSCRIBE' = 'INVITE'): Dialog | undefined {
  const init = uasDialogInit(record.request, res, {
    transport: record.flow.transport,
    flow: record.flow,
    ownerAppId: app.id,
    ownerTags: app.tags,
    inviteWireTxnId: record.id,
    initialState,
    kind,
  });
  if (!init) return undefined;
  const dialog = ctx.newDialog(init);
  ctx.dialogs.add(dialog);
  record.dialog = dialog;
  return dialog;
}

/** RFC 3262 §3: RSeq added, sent now or after the one in flight, retransmitted until PRACKed. */
async function sendReliable(ctx: RelayContext, app: AppConnection, msgId: string, record: InboundTxn, dialog: Dialog, res: SipResponse): Promise<void> {
  const rseq = dialog.reliable.allocate();
  setHeader(res, 'RSeq', String(rseq));
  let first: Promise<Buffer> | undefined;
  const bytes = serializeMessage(res);
  const target = record.server.target;
  dialog.reliable.send(
    rseq,
    bytes,
    res.body.length > 0,
    {
      send: (b) => {
        if (!first) {
          first = record.server.respond(res);
          first.catch((err: unknown) => ctx.log.debug({ err }, 'reliable provisional not sent'));
        } else void ctx.layer.sendRaw(b, target).catch(() => undefined);
      },
      onTimeout: () => {
        if (record.state !== 'pending') return;
        ctx.log.info({ dialogId: dialog.id }, 'no PRACK for reliable provisional, refusing INVITE');
        moveInbound(record, 'final-sent');
        ctx.respondLocally(record.server, 503, record.toTag, 'Reliable Response Time-Out');
        if (dialog.state === 'early') endDialog(ctx, dialog, 'PRACK timeout');
      },
    },
    { t1: ctx.timers.T1, t2: ctx.timers.T2, timeout: 64 * ctx.timers.T1, retransmit: target.transport === 'udp' },
  );
  if (first) {
    try {
      await first;
    } catch (err) {
      app.send(formatNok(msgId, `response not sent: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
  }
  echo(app, msgId, record, bytes, dialog.id);
}

/** A 2xx to INVITE: the dialog is accepted and its in-dialog deliveries wait behind the echo. */
async function sendInvite2xx(ctx: RelayContext, app: AppConnection, msgId: string, record: InboundTxn, res: SipResponse, initial: boolean): Promise<void> {
  const req = record.request;
  let dialog = record.dialog;
  let created = false;
  if (initial && !dialog) {
    dialog = createDialog(ctx, record, res, app, 'early');
    if (!dialog) {
      moveInbound(record, 'pending');
      app.send(formatNok(msgId, 'cannot form a dialog (missing Contact, tags or CSeq)'));
      return;
    }
    created = true;
  }
  if (!dialog) return;
  const d = dialog;
  // RFC 3262 §3 (sofia-sip): a 2xx waits for the PRACK of a reliable 1xx that carried a body.
  const go = await new Promise<boolean>((resolve) => d.whenFinalMaySend(resolve, true));
  if (!go) {
    app.send(formatNok(msgId, 'final response already sent'));
    return;
  }
  if (initial) {
    dialog.localContact = ownString(getHeaders(res, 'Contact')[0] ?? dialog.localContact);
    dialog.transition('accepted');
  } else {
    // re-INVITE accepted: wait for its ACK, take the new remote target (12.2.2)
    dialog.refreshTarget(req);
    dialog.ackCSeq = parseCSeq(getHeader(req, 'CSeq') ?? '')?.seq ?? dialog.ackCSeq;
    dialog.inviteWireTxnId = record.id;
    dialog.ackFrom = 'network';
    dialog.transition('accepted');
  }
  const release = d.delivery.hold();
  let bytes: Buffer;
  try {
    bytes = await record.server.respond(res);
  } catch (err) {
    moveInbound(record, 'pending');
    release(false);
    if (created) endDialog(ctx, d, 'response not sent');
    app.send(formatNok(msgId, `response not sent: ${err instanceof Error ? err.message : String(err)}`));
    return;
  }
  startRetransmitting(ctx, d, bytes, record.server.target);
  echo(app, msgId, record, bytes, d.id);
  release(true);
  releaseDialog(record);
}

function echo(app: AppConnection, msgId: string, record: InboundTxn, bytes: Buffer, dialogId: string): void {
  const target = record.server.target;
  app.send(formatResponseSent(msgId, { bytes: bytes.length, transport: target.transport, address: target.address, port: target.port, txnId: record.id }, dialogId, bytes.toString('utf8')));
}
