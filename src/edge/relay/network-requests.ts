/**
 * Requests from the network on their way to an application (docs/edge.md §4): what the edge
 * answers itself (sanity checks, 481 for unknown dialogs, 503 when no app routed a method,
 * 501 for a method no srf app can route, quick CANCEL, PRACK matching), and the wire
 * transaction and dialog ids srf needs for the rest.
 */
import { randomUuid } from '../random-hex.ts';
import { getHeader, parseCSeq, tagOf, type SipRequest } from '../sip/message.ts';
import { createResponse } from '../sip/response-builder.ts';
import type { Flow } from '../sip/transport.ts';
import type { ServerTransaction, ServerTransactionEvents } from '../transaction/transaction-types.ts';
import type { Follower } from '../transaction/slim-emitter.ts';
import { dialogIdOf, type Dialog } from '../dialog/dialog.ts';
import type { AppConnection } from '../wire/app-registry.ts';
import { newTag } from '../sip-identity.ts';
import { checkIncomingRequest } from '../request-checks.ts';
import { originOf, type RelayContext } from './relay-context.ts';
import { moveInbound, newInboundRecord, releaseDialog, type InboundTxn } from './transaction-records.ts';
import { endDialog } from './dialog-lifecycle.ts';
import { isRoutedThroughUs, forwardByRoute } from './route-forwarding.ts';
import { subscriptionTerminated } from './subscriptions.ts';

/**
 * Requests that only make sense inside a dialog: without a To tag drachtio-server answers BYE
 * and UPDATE with 481, and a PRACK that matches nothing is 481 too (RFC 3262 §3).
 */
const DIALOG_ONLY = new Set(['BYE', 'UPDATE', 'PRACK']);

/**
 * The methods an srf application can route (srf's own list, `sip-methods`). With no app routing
 * one of them, drachtio-server answers 503; anything else no app can ever take, so it is 501
 * Not Implemented (RFC 3261 8.2.1; docs/edge.md §2).
 */
const SRF_METHODS = new Set(['INVITE', 'BYE', 'REGISTER', 'INFO', 'SUBSCRIBE', 'OPTIONS', 'MESSAGE', 'NOTIFY', 'CANCEL', 'UPDATE', 'PRACK', 'ACK', 'REFER', 'PUBLISH']);

export function onNetworkRequest(ctx: RelayContext, req: SipRequest, txn: ServerTransaction | undefined, flow: Flow): void {
  if (isRoutedThroughUs(ctx, req)) {
    // docs/edge.md §7.3: a request in a dialog the edge proxied with Record-Route
    forwardByRoute(ctx, req, txn, flow);
    return;
  }
  if (req.method === 'ACK' || !txn) {
    onNetworkAck(ctx, req, flow);
    return;
  }
  const rejection = checkIncomingRequest(req);
  if (rejection) {
    ctx.log.info({ method: req.method, status: rejection.status, callId: getHeader(req, 'Call-ID') }, 'request refused by the edge');
    ctx.respondLocally(txn, rejection.status, undefined, rejection.reason, rejection.headers);
    return;
  }
  const toTag = tagOf(getHeader(req, 'To'));
  if (toTag) {
    const dialog = ctx.dialogs.matchIncoming(req);
    if (!dialog || dialog.state === 'terminated') {
      ctx.respondLocally(txn, 481);
      return;
    }
    onInDialogRequest(ctx, req, txn, flow, dialog);
    return;
  }
  if (DIALOG_ONLY.has(req.method)) {
    ctx.respondLocally(txn, 481);
    return;
  }
  const app = ctx.registry.pick(req.method);
  if (!app) {
    const status = SRF_METHODS.has(req.method) ? 503 : 501;
    ctx.log.info({ method: req.method, status, callId: getHeader(req, 'Call-ID') }, 'no app routed method, rejecting');
    ctx.respondLocally(txn, status, newTag());
    return;
  }
  const fromTag = tagOf(getHeader(req, 'From')) ?? '';
  const record = newInboundRecord({
    id: randomUuid(),
    app,
    server: txn,
    flow,
    toTag: newTag(),
    dialogId: req.method === 'INVITE' || req.method === 'SUBSCRIBE' ? dialogIdOf(getHeader(req, 'Call-ID') ?? '', fromTag) : '',
    dialog: undefined,
  });
  trackInbound(ctx, record);
  // New out-of-dialog requests name no dialog yet; srf learns it from our 2xx echo.
  ctx.toApp(app, req, originOf(flow), record.id, '', { address: flow.localAddress, port: flow.localPort });
}

/**
 * The app that takes a network request in this dialog: its owner, or, when the owner left,
 * another connected app with the same srf tags (drachtio-server's app-name fallback), which
 * then owns it (docs/edge.md §5).
 */
function appForDialog(ctx: RelayContext, dialog: Dialog): AppConnection | undefined {
  const owner = ctx.ownerOf(dialog);
  if (owner) return owner;
  if (dialog.ownerTags === '') return undefined;
  const heir = ctx.registry.list().find((a) => !a.closed && a.tags === dialog.ownerTags);
  if (heir) dialog.ownerAppId = heir.id;
  return heir;
}

function onInDialogRequest(ctx: RelayContext, req: SipRequest, txn: ServerTransaction, flow: Flow, dialog: Dialog): void {
  if (!dialog.acceptRemoteCSeq(req)) {
    ctx.respondLocally(txn, 500);
    return;
  }
  const rack = req.method === 'PRACK' ? prackedRSeq(dialog, req) : undefined;
  if (req.method === 'PRACK' && rack === undefined) {
    // RFC 3262 §3: a PRACK matching no unacknowledged reliable provisional
    ctx.respondLocally(txn, 481);
    return;
  }
  if (dialog.state === 'early' && req.method !== 'PRACK' && req.method !== 'UPDATE' && req.method !== 'INFO') {
    ctx.respondLocally(txn, 481);
    return;
  }
  const app = appForDialog(ctx, dialog);
  const ends = req.method === 'BYE' || (req.method === 'NOTIFY' && subscriptionTerminated(req));
  if (!app) {
    // drachtio-server: nobody to take it; a BYE from the network still ends the dialog
    ctx.respondLocally(txn, 481);
    if (ends) endDialog(ctx, dialog, 'ended while no app owned it');
    return;
  }
  if (ends) endDialog(ctx, dialog, `${req.method} received`);
  const record = newInboundRecord({ id: randomUuid(), app, server: txn, flow, toTag: dialog.localTag, dialogId: dialog.id, dialog });
  trackInbound(ctx, record);
  if (rack !== undefined) {
    // The PRACK belongs to the INVITE transaction: to the app first, then the next reliable
    // provisional or the 2xx it held may go (sofia-sip's order), so srf sees it before the 2xx echo.
    ctx.toApp(app, req, originOf(flow), record.id, dialog.id);
    dialog.reliable.prack(rack);
    return;
  }
  // A BYE (or re-INVITE) right behind the 2xx must not overtake its echo or its ACK on the way
  // to srf: srf only knows the dialog once the echo arrived, and would answer 481 otherwise.
  dialog.delivery.run(() => ctx.toApp(app, req, originOf(flow), record.id, dialog.id, undefined, true));
}

/**
 * RFC 3262 §7.2: RAck = RSeq, then the CSeq number and method of the INVITE; the RSeq if it
 * matches. Like sofia-sip, anything after the method is ignored (srf's own test client writes
 * `RAck: <rseq> 1 INVITE INVITE`).
 */
function prackedRSeq(dialog: Dialog, prack: SipRequest): number | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s+INVITE(\s|$)/i.exec(getHeader(prack, 'RAck') ?? '');
  if (!m || Number(m[2]) !== dialog.ackCSeq) return undefined;
  const rseq = Number(m[1]);
  return dialog.reliable.matches(rseq) ? rseq : undefined;
}

function trackInbound(ctx: RelayContext, record: InboundTxn): void {
  ctx.inbound.set(record.id, record);
  ctx.inboundByServer.set(record.server, record);
  record.server.follow(new InboundEnd(ctx, record));
}

/**
 * Forgets an inbound record once its server transaction ends: an object with a method
 * (SlimEmitter#follow), not a closure and its context, as it lives for as long as the
 * transaction lingers (docs/performance.md §15).
 */
class InboundEnd implements Follower<ServerTransactionEvents> {
  constructor(
    private readonly ctx: RelayContext,
    private readonly record: InboundTxn,
  ) {}

  /** emitted once (TransactionBase.terminate) */
  terminated(): void {
    const { ctx, record } = this;
    record.ended = true;
    if (record.state !== 'cancelled') {
      ctx.inbound.delete(record.id);
      return;
    }
    // The app may answer a cancelled INVITE after its transaction ended (TCP: Timer I is 0);
    // it must still get "cancelled", not "unknown transaction".
    ctx.clock.setTimeout(() => ctx.inbound.delete(record.id), 64 * ctx.timers.T1);
  }
}

/** An ACK for a 2xx (ACKs for non-2xx are absorbed by the server transaction). */
function onNetworkAck(ctx: RelayContext, ack: SipRequest, flow: Flow): void {
  const dialog = ctx.dialogs.matchIncoming(ack);
  if (!dialog || dialog.ackFrom !== 'network' || !dialog.awaitingAck) return;
  const cseq = parseCSeq(getHeader(ack, 'CSeq') ?? '');
  if (!cseq || cseq.seq !== dialog.ackCSeq) return;
  dialog.retransmitter?.ackReceived();
  dialog.retransmitter = undefined;
  dialog.transition('confirmed');
  const app = ctx.ownerOf(dialog);
  if (!app) return;
  dialog.delivery.run(() => ctx.toApp(app, ack, originOf(flow), dialog.inviteWireTxnId, dialog.id, undefined, true));
}

/** Quick CANCEL (RFC 3261 9.2): 200 to the CANCEL, 487 to the INVITE, then tell the app. */
export function onNetworkCancel(ctx: RelayContext, cancel: SipRequest, cancelTxn: ServerTransaction, inviteTxn: ServerTransaction | undefined): void {
  if (!inviteTxn) {
    ctx.respondLocally(cancelTxn, 481);
    return;
  }
  const indexed = ctx.inboundByServer.get(inviteTxn);
  const record = indexed && ctx.inbound.get(indexed.id) === indexed ? indexed : undefined;
  const toTag = record?.toTag ?? newTag();
  void cancelTxn.respond(createResponse(cancel, 200, 'OK', toTag)).then(
    () => {
      if (record?.proxy) {
        // docs/edge.md §7.2: the proxy answers 487 upstream and cancels its branches
        record.proxy.cancel();
        return;
      }
      if (record && (record.state !== 'pending' || !moveInbound(record, 'cancelled'))) return;
      void inviteTxn.respond(createResponse(inviteTxn.request, 487, 'Request Terminated', toTag)).catch((err: unknown) => {
        ctx.log.debug({ err }, 'sending 487 failed');
      });
      if (record) {
        if (record.dialog?.state === 'early') endDialog(ctx, record.dialog, 'INVITE cancelled');
        releaseDialog(record);
        ctx.toApp(record.app, cancel, originOf(record.flow), record.id, '');
      }
    },
    (err: unknown) => ctx.log.debug({ err }, 'answering CANCEL failed'),
  );
}
