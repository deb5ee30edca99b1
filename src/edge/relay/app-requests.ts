/**
 * Requests applications send through the edge (docs/edge.md §4.1): new out-of-dialog requests
 * completed as drachtio-server does, in-dialog requests and the 2xx ACK built from the dialog,
 * and CANCEL of an INVITE in flight. The echo reaches the app before any response can.
 */
import { randomUuid } from '../random-hex.ts';
import { getHeader, serializeMessage, tagOf, type SipRequest } from '../sip/message.ts';
import type { Target } from '../sip/transport.ts';
import { dialogIdOf, type Dialog } from '../dialog/dialog.ts';
import type { AppConnection } from '../wire/app-registry.ts';
import { formatNok, formatRequestSent } from '../wire/wire-message.ts';
import { completeNewRequest } from '../uac-request-builder.ts';
import type { RelayContext } from './relay-context.ts';
import type { OutboundTxn } from './transaction-records.ts';
import { dialogTarget, requestTargets } from './next-hop.ts';
import { subscriptionTerminated } from './subscriptions.ts';
import { followClient } from './network-responses.ts';

export async function appNewRequest(ctx: RelayContext, app: AppConnection, msgId: string, appReq: SipRequest, routeUri: string): Promise<void> {
  if (appReq.method === 'ACK') {
    app.send(formatNok(msgId, 'ACK outside a dialog'));
    return;
  }
  const targets = await requestTargets(ctx.resolver, routeUri, appReq.uri);
  const req = completeNewRequest(appReq, ctx.local(), targets[0]!.transport);
  const dialogId = req.method === 'INVITE' || req.method === 'SUBSCRIBE' ? dialogIdOf(getHeader(req, 'Call-ID') ?? '', tagOf(getHeader(req, 'From')) ?? '') : '';
  sendForApp(ctx, app, msgId, req, targets, dialogId, undefined);
}

/** In an early dialog only these may be sent (RFC 3262 PRACK, RFC 3311 UPDATE, INFO). */
const EARLY_METHODS = new Set(['PRACK', 'UPDATE', 'INFO']);

export async function appInDialogRequest(ctx: RelayContext, app: AppConnection, msgId: string, dialogId: string, appReq: SipRequest): Promise<void> {
  const dialog = ctx.dialogs.get(dialogId);
  if (!dialog || dialog.state === 'terminated' || (dialog.state === 'early' && !EARLY_METHODS.has(appReq.method))) {
    app.send(formatNok(msgId, 'unable to find dialog'));
    return;
  }
  // docs/edge.md §5: an app that reconnected (or another one) carries on a dialog whose app left.
  if (!ctx.ownerOf(dialog)) {
    ctx.log.info({ dialogId: dialog.id, app: app.id }, 'app adopted dialog');
    dialog.ownerAppId = app.id;
    dialog.ownerTags = app.tags;
  }
  if (appReq.method === 'ACK') {
    await appAck(ctx, app, msgId, dialog, appReq);
    return;
  }
  const req = dialog.buildRequest(appReq, ctx.local());
  const target = await dialogTarget(ctx.resolver, dialog);
  if (endsDialog(req)) {
    // drachtio-server keeps the dialog until the response: a challenged BYE can be sent again.
    dialog.transition('terminating');
    dialog.stopClosingTimer();
    dialog.closingRequests++;
  }
  sendForApp(ctx, app, msgId, req, target, dialog.id, dialog);
}

/** A BYE, or a NOTIFY ending its subscription (RFC 6665 4.2.2). */
export function endsDialog(req: SipRequest): boolean {
  return req.method === 'BYE' || (req.method === 'NOTIFY' && subscriptionTerminated(req));
}

/** The ACK for a 2xx the app received: its own transaction (17.1.1.3), kept for re-sending. */
async function appAck(ctx: RelayContext, app: AppConnection, msgId: string, dialog: Dialog, appReq: SipRequest): Promise<void> {
  if (dialog.ackFrom !== 'app' || !dialog.awaitingAck) {
    app.send(formatNok(msgId, 'no 2xx awaiting ACK in this dialog'));
    return;
  }
  const target = await dialogTarget(ctx.resolver, dialog);
  const ack = dialog.buildAck(appReq, ctx.local(), target.transport);
  const bytes = serializeMessage(ack);
  await ctx.layer.sendRaw(bytes, target);
  dialog.transition('confirmed');
  dialog.lastAck = { latin1: bytes.toString('latin1'), target, cseq: dialog.ackCSeq };
  const local = ctx.local();
  app.send(formatRequestSent(msgId, { bytes: bytes.length, transport: target.transport, address: local.host, port: local.port, txnId: dialog.inviteWireTxnId }, bytes.toString('utf8')));
}

/** Sends through a client transaction; the echo goes to the app before any response can. */
function sendForApp(ctx: RelayContext, app: AppConnection, msgId: string, req: SipRequest, target: Target | readonly Target[], dialogId: string, dialog: Dialog | undefined): void {
  const client = ctx.layer.sendRequest(req, target);
  const record: OutboundTxn = { id: randomUuid(), app, client, dialogId, dialog, final: false, early: undefined };
  ctx.outbound.set(record.id, record);
  const local = ctx.local();
  app.send(formatRequestSent(msgId, { bytes: client.sent.length, transport: client.target.transport, address: local.host, port: local.port, txnId: record.id }, client.sent.toString('utf8')));
  followClient(ctx, record);
}

/** The app's CANCEL: its own headers (e.g. Reason from srf's req.cancel({headers})) are carried, as drachtio-server does. */
export function appCancel(ctx: RelayContext, app: AppConnection, msgId: string, txnId: string, appCancelReq: SipRequest): void {
  const record = ctx.outbound.get(txnId);
  if (!record || record.app !== app || record.client.method !== 'INVITE') {
    app.send(formatNok(msgId, 'unknown transaction'));
    return;
  }
  const cancel = record.final ? undefined : record.client.cancel(appCancelReq.headers);
  if (!cancel) {
    app.send(formatNok(msgId, 'transaction already completed'));
    return;
  }
  const raw = serializeMessage(cancel);
  const target = record.client.target;
  const local = ctx.local();
  app.send(formatRequestSent(msgId, { bytes: raw.length, transport: target.transport, address: local.host, port: local.port, txnId: randomUuid() }, raw.toString('utf8')));
}
