/**
 * The edge's heart: relays between drachtio-srf applications (wire protocol) and the SIP network
 * (transaction layer), doing what drachtio-server does for srf — wire transaction ids, dialogs,
 * quick CANCEL, 503 when no app routed a method, 481 for unknown dialogs, the 2xx/ACK exchange
 * and BYE on ACK timeout, internal 408/503 — so that an unmodified srf works against it.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/logger.ts';
import { getHeader, parseCSeq, parseNameAddr, serializeMessage, tagOf, type SipMessage, type SipRequest, type SipResponse } from './sip/message.ts';
import { createResponse } from './sip/response-builder.ts';
import type { Flow, Target } from './sip/transport.ts';
import type { SipResolver } from './dns/sip-resolver.ts';
import type { TransactionLayer } from './transaction/transaction-layer.ts';
import { Uas2xxRetransmitter } from './transaction/uas-2xx-retransmitter.ts';
import type { TimerConfig } from './transaction/timers.ts';
import type { ClientTransaction, ServerTransaction } from './transaction/transaction-types.ts';
import { Dialog, dialogIdOf, uacDialogInit, uasDialogInit } from './dialog/dialog.ts';
import { DialogStore } from './dialog/dialog-store.ts';
import type { AppConnection, AppRegistry } from './wire/app-registry.ts';
import { parseAppSip } from './wire/app-sip-text.ts';
import { formatNetworkSip, formatNok, formatRequestSent, formatResponseSent, formatUnsolicited, type WirePayload } from './wire/wire-message.ts';
import { completeNewRequest } from './uac-request-builder.ts';
import { buildResponse } from './uas-response-builder.ts';
import { newTag, type EdgeSipAddress } from './sip-identity.ts';
import { checkIncomingRequest } from './request-checks.ts';

/** A request from the network handed to an application. */
interface InboundTxn {
  id: string;
  app: AppConnection;
  request: SipRequest;
  server: ServerTransaction;
  flow: Flow;
  toTag: string;
  /** pending: the app has not answered finally; cancelled: quick CANCEL answered 487 for it */
  state: 'pending' | 'final-sent' | 'cancelled';
  /** '' for an out-of-dialog non-INVITE request */
  dialogId: string;
  dialog: Dialog | undefined;
}

/** A request an application sent through the edge. */
interface OutboundTxn {
  id: string;
  app: AppConnection;
  client: ClientTransaction;
  dialogId: string;
  dialog: Dialog | undefined;
  final: boolean;
}

export interface SipRelayOptions {
  layer: TransactionLayer;
  registry: AppRegistry;
  timers: TimerConfig;
  /** the edge's advertised SIP host:port (after listen) */
  local: () => EdgeSipAddress;
  logger: Logger;
  /** RFC 3263 resolution of every URI the edge sends to (docs/edge-transport.md §3) */
  resolver: SipResolver;
}

/** How long in-dialog traffic held behind a 2xx echo waits after it (see holdInDialog). */
const ECHO_SETTLE_MS = 10;

/** Requests that only make sense inside a dialog (answered 481 without a To tag). */
const DIALOG_ONLY = new Set(['BYE', 'UPDATE', 'PRACK', 'INFO']);

export class SipRelay {
  readonly dialogs = new DialogStore();
  private readonly inbound = new Map<string, InboundTxn>();
  private readonly outbound = new Map<string, OutboundTxn>();
  private readonly cancelledIds = new Set<string>();
  private readonly retransmitters = new Map<Dialog, Uas2xxRetransmitter>();
  /** UAS dialogs whose 2xx echo is not yet written or just was: their ACK and requests wait (holdInDialog). */
  private readonly echoWritten = new Map<Dialog, Promise<void>>();
  /** UAC dialogs: the ACK bytes and target, re-sent for a retransmitted 2xx (13.2.2.4) */
  private readonly lastAck = new Map<Dialog, { ack: SipRequest; target: Target; cseq: number }>();
  private readonly log: Logger;

  constructor(private readonly opts: SipRelayOptions) {
    this.log = opts.logger;
    const { layer } = opts;
    layer.on('request', (req: SipRequest, txn: ServerTransaction | undefined, flow: Flow) => {
      this.guard('request', () => this.onNetworkRequest(req, txn, flow));
    });
    layer.on('cancel', (cancel: SipRequest, cancelTxn: ServerTransaction, inviteTxn: ServerTransaction | undefined) => {
      this.guard('cancel', () => this.onNetworkCancel(cancel, cancelTxn, inviteTxn));
    });
    layer.on('stray-response', (res: SipResponse) => {
      this.guard('stray-response', () => this.onStrayResponse(res));
    });
    opts.registry.on('app-gone', (app) => this.guard('app-gone', () => this.onAppGone(app)));
  }

  /** What the relay holds (tests check that it drains to zero; metrics may read it). */
  get size(): { dialogs: number; inbound: number; outbound: number; retransmitters: number; cancelled: number } {
    return { dialogs: this.dialogs.size, inbound: this.inbound.size, outbound: this.outbound.size, retransmitters: this.retransmitters.size, cancelled: this.cancelledIds.size };
  }

  /** Stops every 2xx retransmission; the layer owns the transaction timers. */
  close(): void {
    for (const r of this.retransmitters.values()) r.stop();
    this.retransmitters.clear();
  }

  // ---------------------------------------------------------------- network → app

  private onNetworkRequest(req: SipRequest, txn: ServerTransaction | undefined, flow: Flow): void {
    if (req.method === 'ACK' || !txn) {
      this.onNetworkAck(req, flow);
      return;
    }
    const rejection = checkIncomingRequest(req);
    if (rejection) {
      this.log.info({ method: req.method, status: rejection.status, callId: getHeader(req, 'Call-ID') }, 'request refused by the edge');
      const res = createResponse(req, rejection.status, rejection.reason, tagOf(getHeader(req, 'To')) ? undefined : newTag());
      res.headers.push(...rejection.headers);
      void txn.respond(res).catch((err: unknown) => this.log.debug({ err }, 'local response failed'));
      return;
    }
    const toTag = tagOf(getHeader(req, 'To'));
    if (toTag) {
      const dialog = this.dialogs.matchIncoming(req);
      if (!dialog || dialog.state === 'terminated') {
        this.respondLocally(txn, 481);
        return;
      }
      this.onInDialogRequest(req, txn, flow, dialog);
      return;
    }
    if (DIALOG_ONLY.has(req.method)) {
      this.respondLocally(txn, 481);
      return;
    }
    const app = this.opts.registry.pick(req.method);
    if (!app) {
      this.log.info({ method: req.method, callId: getHeader(req, 'Call-ID') }, 'no app routed method, rejecting');
      this.respondLocally(txn, 503, newTag());
      return;
    }
    const fromTag = tagOf(getHeader(req, 'From')) ?? '';
    const record: InboundTxn = {
      id: randomUUID(),
      app,
      request: req,
      server: txn,
      flow,
      toTag: newTag(),
      state: 'pending',
      dialogId: req.method === 'INVITE' ? dialogIdOf(getHeader(req, 'Call-ID') ?? '', fromTag) : '',
      dialog: undefined,
    };
    this.trackInbound(record);
    // New out-of-dialog requests name no dialog yet; srf learns it from our 2xx echo.
    this.toApp(app, req, flow, record.id, '', { address: flow.localAddress, port: flow.localPort });
  }

  private onInDialogRequest(req: SipRequest, txn: ServerTransaction, flow: Flow, dialog: Dialog): void {
    if (!dialog.acceptRemoteCSeq(req)) {
      this.respondLocally(txn, 500);
      return;
    }
    const app = this.opts.registry.get(dialog.ownerAppId);
    if (!app || app.closed) {
      this.respondLocally(txn, 481);
      return;
    }
    if (req.method === 'BYE') this.endDialog(dialog, 'bye received');
    const record: InboundTxn = {
      id: randomUUID(),
      app,
      request: req,
      server: txn,
      flow,
      toTag: dialog.localTag,
      state: 'pending',
      dialogId: dialog.id,
      dialog,
    };
    this.trackInbound(record);
    // A BYE (or re-INVITE) right behind the 2xx must not overtake its echo or its ACK on the way
    // to srf: srf only knows the dialog once the echo arrived, and would answer 481 otherwise.
    this.afterEcho(dialog, () => this.toApp(app, req, flow, record.id, dialog.id));
  }

  /**
   * Runs fn at once, or, while the dialog's traffic is held (holdInDialog), after what is already
   * held, in arrival order and ECHO_SETTLE_MS apart: srf emits a dialog's 'ack' a tick after
   * reading the ACK, and a BYE read in the same chunk would remove the listeners first.
   */
  private afterEcho(dialog: Dialog, fn: () => void): void {
    const held = this.echoWritten.get(dialog);
    if (!held) {
      fn();
      return;
    }
    const next = held.then(() => {
      this.guard('after-echo', fn);
      return new Promise<void>((r) => setTimeout(r, ECHO_SETTLE_MS));
    });
    this.echoWritten.set(dialog, next);
    void next.then(() => {
      if (this.echoWritten.get(dialog) === next) this.echoWritten.delete(dialog);
    });
  }

  private trackInbound(record: InboundTxn): void {
    this.inbound.set(record.id, record);
    record.server.once('terminated', () => {
      this.inbound.delete(record.id);
      // The app may answer a cancelled INVITE after its transaction ended (TCP: Timer I is 0);
      // it must still get "cancelled", not "unknown transaction".
      if (record.state === 'cancelled') {
        this.cancelledIds.add(record.id);
        setTimeout(() => this.cancelledIds.delete(record.id), 64 * this.opts.timers.t1).unref();
      }
    });
  }

  /** An ACK for a 2xx (ACKs for non-2xx are absorbed by the server transaction). */
  private onNetworkAck(ack: SipRequest, flow: Flow): void {
    const dialog = this.dialogs.matchIncoming(ack);
    if (!dialog || dialog.ackFrom !== 'network' || !dialog.awaitingAck) return;
    const cseq = parseCSeq(getHeader(ack, 'CSeq') ?? '');
    if (!cseq || cseq.seq !== dialog.ackCSeq) return;
    this.retransmitters.get(dialog)?.ackReceived();
    this.retransmitters.delete(dialog);
    dialog.transition('confirmed');
    const app = this.opts.registry.get(dialog.ownerAppId);
    if (!app) return;
    this.afterEcho(dialog, () => this.toApp(app, ack, flow, dialog.inviteWireTxnId, dialog.id));
  }

  /** Quick CANCEL (RFC 3261 9.2): 200 to the CANCEL, 487 to the INVITE, then tell the app. */
  private onNetworkCancel(cancel: SipRequest, cancelTxn: ServerTransaction, inviteTxn: ServerTransaction | undefined): void {
    const record = inviteTxn ? [...this.inbound.values()].find((r) => r.server === inviteTxn) : undefined;
    if (!inviteTxn) {
      this.respondLocally(cancelTxn, 481);
      return;
    }
    const toTag = record?.toTag ?? newTag();
    void cancelTxn.respond(createResponse(cancel, 200, 'OK', toTag)).then(
      () => {
        if (record && record.state !== 'pending') return;
        if (record) record.state = 'cancelled';
        void inviteTxn.respond(createResponse(inviteTxn.request, 487, 'Request Terminated', toTag)).catch((err: unknown) => {
          this.log.debug({ err }, 'sending 487 failed');
        });
        if (record) this.toApp(record.app, cancel, record.flow, record.id, '');
      },
      (err: unknown) => this.log.debug({ err }, 'answering CANCEL failed'),
    );
  }

  private respondLocally(txn: ServerTransaction, status: number, toTag?: string): void {
    const tag = toTag ?? (tagOf(getHeader(txn.request, 'To')) ? undefined : newTag());
    void txn.respond(createResponse(txn.request, status, undefined, tag)).catch((err: unknown) => {
      this.log.debug({ err, status }, 'local response failed');
    });
  }

  private toApp(app: AppConnection, msg: SipMessage, flow: Flow, txnId: string, dialogId: string, receivedOn?: { address: string; port: number }): void {
    const raw = serializeMessage(msg);
    app.send(
      formatNetworkSip(
        {
          bytes: raw.length,
          transport: flow.transport,
          remoteAddress: flow.remoteAddress,
          remotePort: flow.remotePort,
          txnId,
          dialogId,
          ...(receivedOn ? { receivedOn } : {}),
        },
        raw.toString('utf8'),
      ),
    );
  }

  // ---------------------------------------------------------------- app → network

  handleAppSip(app: AppConnection, msg: WirePayload): void {
    const [txnId = '', dialogId = '', routeUri = ''] = msg.args;
    const parsed = msg.sip !== undefined ? parseAppSip(msg.sip) : undefined;
    if (!parsed) {
      app.send(formatNok(msg.msgId, 'unparseable sip message'));
      return;
    }
    const run = async (): Promise<void> => {
      if (parsed.kind === 'response') await this.appResponse(app, msg.msgId, txnId, parsed);
      else if (parsed.method === 'CANCEL' && txnId) this.appCancel(app, msg.msgId, txnId, parsed);
      else if (dialogId) await this.appInDialogRequest(app, msg.msgId, dialogId, parsed);
      else await this.appNewRequest(app, msg.msgId, parsed, routeUri);
    };
    run().catch((err: unknown) => {
      this.log.warn({ err, app: app.id }, 'app sip command failed');
      app.send(formatNok(msg.msgId, err instanceof Error ? err.message : String(err)));
    });
  }

  private async appResponse(app: AppConnection, msgId: string, txnId: string, appRes: SipResponse): Promise<void> {
    const record = this.inbound.get(txnId);
    if (!record && this.cancelledIds.has(txnId)) {
      app.send(formatNok(msgId, 'request was cancelled'));
      return;
    }
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
    const res = buildResponse(req, appRes, { toTag: record.toTag, local: this.opts.local(), transport: record.flow.transport });
    const isFinal = res.status >= 200;
    if (isFinal) record.state = 'final-sent';
    const inviteAccepted = req.method === 'INVITE' && res.status >= 200 && res.status < 300;
    let dialog = record.dialog;
    let releaseHeld: ((settleMs: number) => void) | undefined;
    if (inviteAccepted) {
      if (!dialog) {
        const init = uasDialogInit(req, res, { transport: record.flow.transport, flow: record.flow, ownerAppId: app.id, inviteWireTxnId: record.id });
        if (!init) {
          record.state = 'pending';
          app.send(formatNok(msgId, 'cannot form a dialog (missing Contact, tags or CSeq)'));
          return;
        }
        dialog = new Dialog(init);
        this.dialogs.add(dialog);
      } else {
        // re-INVITE accepted: wait for its ACK, take the new remote target (12.2.2)
        dialog.refreshTarget(req);
        dialog.ackCSeq = parseCSeq(getHeader(req, 'CSeq') ?? '')?.seq ?? dialog.ackCSeq;
        dialog.inviteWireTxnId = record.id;
        dialog.ackFrom = 'network';
        dialog.transition('accepted');
      }
      releaseHeld = this.holdInDialog(dialog);
    }
    let bytes: Buffer;
    try {
      bytes = await record.server.respond(res);
    } catch (err) {
      if (isFinal) record.state = 'pending';
      releaseHeld?.(0);
      if (inviteAccepted && dialog && !record.dialog) this.dialogs.delete(dialog);
      app.send(formatNok(msgId, `response not sent: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    if (inviteAccepted && dialog) this.startRetransmitting(dialog, bytes, record);
    const dialogId = req.method === 'INVITE' && res.status > 100 ? (dialog?.id ?? record.dialogId) : record.dialogId;
    const target = record.server.target;
    app.send(
      formatResponseSent(
        msgId,
        { bytes: bytes.length, transport: target.transport, address: target.address, port: target.port, txnId: record.id },
        dialogId,
        bytes.toString('utf8'),
      ),
    );
    releaseHeld?.(ECHO_SETTLE_MS);
  }

  /**
   * Holds the dialog's in-dialog traffic to the app (afterEcho) until the returned function is
   * called and settleMs more have passed. srf creates the Dialog from the 2xx echo and the app
   * attaches its listeners a promise tick later; an ACK and BYE written in the same burst as the
   * echo would be read in one chunk and handled before that tick, so the app would miss the
   * 'destroy'. With drachtio-server a network round trip separates them; the settle time does.
   */
  private holdInDialog(dialog: Dialog): (settleMs: number) => void {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    this.echoWritten.set(dialog, gate);
    void gate.then(() => {
      if (this.echoWritten.get(dialog) === gate) this.echoWritten.delete(dialog);
    });
    return (settleMs) => {
      if (settleMs <= 0) open();
      else setTimeout(open, settleMs);
    };
  }

  /** 13.3.1.4: the 2xx is retransmitted until the ACK; without one, BYE (Timer H). */
  private startRetransmitting(dialog: Dialog, bytes: Buffer, record: InboundTxn): void {
    this.retransmitters.get(dialog)?.stop();
    const r = new Uas2xxRetransmitter({
      layer: this.opts.layer,
      response: bytes,
      target: record.server.target,
      timers: this.opts.timers,
      onTimeout: () => this.guard('ack-timeout', () => this.onAckTimeout(dialog)),
    });
    this.retransmitters.set(dialog, r);
  }

  private onAckTimeout(dialog: Dialog): void {
    this.retransmitters.delete(dialog);
    if (dialog.state === 'terminated') return;
    this.log.warn({ dialogId: dialog.id }, 'no ACK for 2xx, ending dialog');
    const app = this.opts.registry.get(dialog.ownerAppId);
    void this.sendEdgeBye(dialog, [{ name: 'Reason', value: 'SIP;cause=200;text="ACK timeout"' }]).then((sent) => {
      if (!sent || !app) return;
      app.send(
        formatUnsolicited(
          { bytes: sent.bytes.length, transport: sent.target.transport, remoteAddress: sent.target.address, remotePort: sent.target.port, dialogId: dialog.id },
          sent.bytes.toString('utf8'),
        ),
      );
    });
  }

  /** A BYE the edge itself sends (ACK timeout, application gone); the dialog ends at once. */
  private async sendEdgeBye(dialog: Dialog, headers: Array<{ name: string; value: string }> = []): Promise<{ bytes: Buffer; target: Target } | undefined> {
    if (dialog.state === 'terminated') return undefined;
    const bye = dialog.buildRequest({ kind: 'request', method: 'BYE', uri: 'sip:placeholder', headers, body: Buffer.alloc(0) }, this.opts.local());
    this.endDialog(dialog, 'edge sent BYE');
    try {
      const target = await this.dialogTarget(dialog);
      const txn = this.opts.layer.sendRequest(bye, target);
      txn.on('transport-error', () => undefined);
      return { bytes: txn.sent, target };
    } catch (err) {
      this.log.warn({ err, dialogId: dialog.id }, 'edge BYE not sent');
      return undefined;
    }
  }

  private endDialog(dialog: Dialog, why: string): void {
    if (!dialog.transition('terminated')) return;
    this.retransmitters.get(dialog)?.stop();
    this.retransmitters.delete(dialog);
    this.lastAck.delete(dialog);
    this.dialogs.delete(dialog);
    this.log.debug({ dialogId: dialog.id, why }, 'dialog ended');
  }

  private async dialogTarget(dialog: Dialog): Promise<Target> {
    const firstRoute = dialog.routeSet[0];
    if (firstRoute !== undefined) {
      const uri = parseNameAddr(firstRoute)?.uri;
      if (uri) return this.opts.resolver.first(uri, dialog.transport);
    }
    // A TCP or TLS peer that called us is reached over the connection its INVITE came on.
    if (dialog.flow && dialog.flow.transport !== 'udp') return { transport: dialog.flow.transport, address: dialog.flow.remoteAddress, port: dialog.flow.remotePort };
    return this.opts.resolver.first(dialog.remoteTarget, dialog.transport);
  }

  private async appNewRequest(app: AppConnection, msgId: string, appReq: SipRequest, routeUri: string): Promise<void> {
    if (appReq.method === 'ACK') {
      app.send(formatNok(msgId, 'ACK outside a dialog'));
      return;
    }
    const targets = await this.opts.resolver.resolve(routeUri || appReq.uri);
    const req = completeNewRequest(appReq, this.opts.local(), targets[0]!.transport);
    const dialogId = req.method === 'INVITE' ? dialogIdOf(getHeader(req, 'Call-ID') ?? '', tagOf(getHeader(req, 'From')) ?? '') : '';
    this.sendForApp(app, msgId, req, targets, dialogId, undefined);
  }

  private async appInDialogRequest(app: AppConnection, msgId: string, dialogId: string, appReq: SipRequest): Promise<void> {
    const dialog = this.dialogs.get(dialogId);
    if (!dialog || dialog.state === 'terminated') {
      app.send(formatNok(msgId, 'unable to find dialog'));
      return;
    }
    if (appReq.method === 'ACK') {
      if (dialog.ackFrom !== 'app' || !dialog.awaitingAck) {
        app.send(formatNok(msgId, 'no 2xx awaiting ACK in this dialog'));
        return;
      }
      const target = await this.dialogTarget(dialog);
      const ack = dialog.buildAck(appReq, this.opts.local(), target.transport);
      const bytes = serializeMessage(ack);
      await this.opts.layer.sendStateless(ack, target);
      dialog.transition('confirmed');
      this.lastAck.set(dialog, { ack, target, cseq: dialog.ackCSeq });
      app.send(
        formatRequestSent(
          msgId,
          { bytes: bytes.length, transport: target.transport, address: this.opts.local().host, port: this.opts.local().port, txnId: dialog.inviteWireTxnId },
          bytes.toString('utf8'),
        ),
      );
      return;
    }
    const req = dialog.buildRequest(appReq, this.opts.local());
    const target = await this.dialogTarget(dialog);
    // A BYE ends the dialog when it is answered (onNetworkResponse), not when sent: drachtio-server
    // keeps the dialog so that srf can send a challenged BYE again with credentials (RFC 3261 §22.2).
    this.sendForApp(app, msgId, req, target, dialog.id, dialog);
  }

  /** Sends through a client transaction; the echo goes to the app before any response can. */
  private sendForApp(app: AppConnection, msgId: string, req: SipRequest, target: Target | readonly Target[], dialogId: string, dialog: Dialog | undefined): void {
    const client = this.opts.layer.sendRequest(req, target);
    const record: OutboundTxn = { id: randomUUID(), app, client, dialogId, dialog, final: false };
    this.outbound.set(record.id, record);
    app.send(
      formatRequestSent(
        msgId,
        { bytes: client.sent.length, transport: client.target.transport, address: this.opts.local().host, port: this.opts.local().port, txnId: record.id },
        client.sent.toString('utf8'),
      ),
    );
    client.on('response', (res) => this.guard('response', () => this.onNetworkResponse(record, res)));
    client.on('timeout', () => this.guard('timeout', () => this.synthesize(record, 408, 'Request Timeout')));
    client.on('transport-error', (err) => {
      this.log.info({ err: err.message, method: req.method }, 'request could not be sent');
      this.guard('transport-error', () => this.synthesize(record, 503, 'Service Unavailable'));
    });
    client.once('terminated', () => this.outbound.delete(record.id));
  }

  /** Timer B/F or a transport failure, reported to the app as if the peer had answered (8.1.3.1). */
  private synthesize(record: OutboundTxn, status: number, reason: string): void {
    if (record.final) return;
    const res = createResponse(record.client.request, status, reason);
    this.onNetworkResponse(record, res);
  }

  private onNetworkResponse(record: OutboundTxn, res: SipResponse): void {
    const req = record.client.request;
    const target = record.client.target;
    if (req.method === 'BYE' && record.dialog && res.status >= 200 && !record.final) this.afterByeAnswered(record.dialog, res.status);
    if (req.method === 'INVITE' && res.status >= 200 && res.status < 300) {
      if (record.final) {
        this.reAck(res);
        return;
      }
      this.onInvite2xx(record, res);
    }
    if (record.final) return;
    if (res.status >= 200) record.final = true;
    if (record.app.closed) return;
    const raw = serializeMessage(res);
    const dialogId = req.method === 'INVITE' && res.status > 100 ? record.dialogId : record.dialog ? record.dialogId : '';
    record.app.send(
      formatNetworkSip(
        { bytes: raw.length, transport: target.transport, remoteAddress: target.address, remotePort: target.port, txnId: record.id, dialogId },
        raw.toString('utf8'),
      ),
    );
  }

  /** A challenged BYE keeps its dialog for the retry, at most 64 × T1; any other answer ends it. */
  private afterByeAnswered(dialog: Dialog, status: number): void {
    if (status !== 401 && status !== 407) {
      this.endDialog(dialog, `BYE answered ${status}`);
      return;
    }
    setTimeout(() => this.guard('challenged-bye', () => this.endDialog(dialog, 'challenged BYE not sent again')), 64 * this.opts.timers.t1).unref();
  }

  private onInvite2xx(record: OutboundTxn, res: SipResponse): void {
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
        this.log.warn({ callId: getHeader(res, 'Call-ID') }, '2xx cannot form a dialog');
        return;
      }
      dialog = new Dialog(init);
      this.dialogs.add(dialog);
      record.dialog = dialog;
    }
    if (record.app.closed) {
      // Nobody will ACK: complete the handshake and hang up (the app is gone).
      const d = dialog;
      void this.ackAndBye(d);
    }
  }

  private async ackAndBye(dialog: Dialog): Promise<void> {
    try {
      const target = await this.dialogTarget(dialog);
      const ack = dialog.buildAck({ kind: 'request', method: 'ACK', uri: 'sip:placeholder', headers: [], body: Buffer.alloc(0) }, this.opts.local(), target.transport);
      await this.opts.layer.sendStateless(ack, target);
      dialog.transition('confirmed');
    } catch (err) {
      this.log.debug({ err }, 'ACK for orphaned 2xx failed');
    }
    await this.sendEdgeBye(dialog);
  }

  /** A retransmitted 2xx means our ACK was lost: send it again (13.2.2.4). */
  private reAck(res: SipResponse): void {
    const callId = getHeader(res, 'Call-ID');
    const fromTag = tagOf(getHeader(res, 'From'));
    const toTag = tagOf(getHeader(res, 'To'));
    const cseq = parseCSeq(getHeader(res, 'CSeq') ?? '');
    if (!callId || !fromTag || !toTag || !cseq) return;
    const dialog = this.dialogs.matchResponse(callId, fromTag, toTag);
    const ack = dialog ? this.lastAck.get(dialog) : undefined;
    if (!ack || ack.cseq !== cseq.seq) return;
    void this.opts.layer.sendStateless(ack.ack, ack.target).catch(() => undefined);
  }

  private onStrayResponse(res: SipResponse): void {
    const cseq = parseCSeq(getHeader(res, 'CSeq') ?? '');
    if (cseq?.method === 'INVITE' && res.status >= 200 && res.status < 300) this.reAck(res);
  }

  /** The app's CANCEL: its own headers (e.g. Reason from srf's req.cancel({headers})) are carried, as drachtio-server does. */
  private appCancel(app: AppConnection, msgId: string, txnId: string, appCancel: SipRequest): void {
    const record = this.outbound.get(txnId);
    if (!record || record.app !== app || record.client.method !== 'INVITE') {
      app.send(formatNok(msgId, 'unknown transaction'));
      return;
    }
    const cancel = record.final ? undefined : record.client.cancel(appCancel.headers);
    if (!cancel) {
      app.send(formatNok(msgId, 'transaction already completed'));
      return;
    }
    const raw = serializeMessage(cancel);
    const target = record.client.target;
    app.send(
      formatRequestSent(
        msgId,
        { bytes: raw.length, transport: target.transport, address: this.opts.local().host, port: this.opts.local().port, txnId: randomUUID() },
        raw.toString('utf8'),
      ),
    );
  }

  // ---------------------------------------------------------------- applications leaving

  /** An app left: answer what it left pending, cancel what it started, BYE its dialogs. */
  private onAppGone(app: AppConnection): void {
    for (const r of this.inbound.values()) {
      if (r.app !== app || r.state !== 'pending') continue;
      r.state = 'final-sent';
      this.respondLocally(r.server, r.request.method === 'INVITE' ? 480 : 503, r.toTag);
    }
    for (const r of this.outbound.values()) {
      if (r.app === app && r.client.method === 'INVITE' && !r.final) r.client.cancel();
    }
    for (const d of this.dialogs.ownedBy(app.id)) {
      if (d.ackFrom === 'app' && d.awaitingAck) void this.ackAndBye(d);
      else void this.sendEdgeBye(d);
    }
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, what }, 'relay handler failed');
    }
  }
}

