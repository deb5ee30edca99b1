/**
 * What every part of the relay shares: the transaction layer, the applications, the dialogs and
 * the transaction records, the clock and the logger, and the one way to hand a message to an app.
 */
import type { Logger } from '../../log/logger.ts';
import { getHeader, serializeMessageText, tagOf, type SipMessage } from '../sip/message.ts';
import { createResponse } from '../sip/response-builder.ts';
import type { Flow } from '../sip/transport.ts';
import type { SipResolver } from '../dns/sip-resolver.ts';
import type { TransactionLayer } from '../transaction/transaction-layer.ts';
import { deriveTimers, type Clock, type TimerConfig, type TimerValues } from '../transaction/timers.ts';
import type { ServerTransaction } from '../transaction/transaction-types.ts';
import { Dialog, type DialogEnvironment, type DialogInit } from '../dialog/dialog.ts';
import { DialogStore } from '../dialog/dialog-store.ts';
import type { AppConnection, AppRegistry } from '../wire/app-registry.ts';
import { formatNetworkSip } from '../wire/wire-message.ts';
import { newTag, type EdgeSipAddress } from '../sip-identity.ts';
import type { InboundTxn, OutboundTxn } from './transaction-records.ts';

export interface RelayOptions {
  layer: TransactionLayer;
  registry: AppRegistry;
  timers: TimerConfig;
  clock: Clock;
  /** the edge's advertised SIP host:port (after listen) */
  local: () => EdgeSipAddress;
  logger: Logger;
  /** RFC 3263 resolution of every URI the edge sends to (docs/edge-transport.md §3) */
  resolver: SipResolver;
}

/** Where a message came from, as srf reads it from a `sip|network|...` frame. */
export interface Origin {
  transport: string;
  remoteAddress: string;
  remotePort: number;
}

export function originOf(flow: Flow): Origin {
  return { transport: flow.transport, remoteAddress: flow.remoteAddress, remotePort: flow.remotePort };
}

export class RelayContext {
  readonly dialogs = new DialogStore();
  readonly inbound = new Map<string, InboundTxn>();
  /** the same records by their server transaction: a CANCEL finds its INVITE's without a scan of every record */
  readonly inboundByServer = new WeakMap<ServerTransaction, InboundTxn>();
  readonly outbound = new Map<string, OutboundTxn>();
  readonly layer: TransactionLayer;
  readonly registry: AppRegistry;
  readonly clock: Clock;
  readonly timers: TimerValues;
  readonly log: Logger;
  readonly resolver: SipResolver;
  private readonly localAddress: () => EdgeSipAddress;
  /** the two environments every dialog shares: one object fewer per dialog (docs/performance.md §9) */
  private readonly dialogEnvs: { readonly timed: DialogEnvironment; readonly byTurns: DialogEnvironment };

  constructor(opts: RelayOptions) {
    this.layer = opts.layer;
    this.registry = opts.registry;
    this.clock = opts.clock;
    this.timers = deriveTimers(opts.timers);
    this.log = opts.logger;
    this.resolver = opts.resolver;
    this.localAddress = opts.local;
    const onError = (err: unknown): void => this.log.error({ err }, 'relay delivery failed');
    this.dialogEnvs = { timed: { clock: this.clock, onError, byTurns: false }, byTurns: { clock: this.clock, onError, byTurns: true } };
  }

  local(): EdgeSipAddress {
    return this.localAddress();
  }

  /**
   * A dialog running on the relay's clock; errors in its deliveries are logged, never thrown.
   * An owner on an in-process link orders its deliveries by event-loop turns, not by time
   * (docs/edge.md §4.3).
   */
  newDialog(init: DialogInit): Dialog {
    const byTurns = this.registry.get(init.ownerAppId)?.ordersDeliveries === true;
    return new Dialog(init, byTurns ? this.dialogEnvs.byTurns : this.dialogEnvs.timed);
  }

  /**
   * `sip|network|...` to the app: a request or response as it came from the network.
   * `afterTurn`: an in-dialog request (docs/edge.md §4.3).
   */
  toApp(app: AppConnection, msg: SipMessage, origin: Origin, txnId: string, dialogId: string, receivedOn?: { address: string; port: number }, afterTurn = false): void {
    const raw = serializeMessageText(msg);
    app.send(
      formatNetworkSip(
        { bytes: raw.bytes, transport: origin.transport, remoteAddress: origin.remoteAddress, remotePort: origin.remotePort, txnId, dialogId, ...(receivedOn ? { receivedOn } : {}) },
        raw.text,
      ),
      afterTurn,
    );
  }

  /** A response the edge gives itself (no app involved); a To tag unless the request had one. */
  respondLocally(txn: ServerTransaction, status: number, toTag?: string, reason?: string, headers: Array<{ name: string; value: string }> = []): void {
    const tag = toTag ?? (tagOf(getHeader(txn.request, 'To')) ? undefined : newTag());
    const res = createResponse(txn.request, status, reason, tag);
    res.headers.push(...headers);
    void txn.respond(res).catch((err: unknown) => {
      this.log.debug({ err, status }, 'local response failed');
    });
  }

  /** The application answering for a dialog now, if it is still connected. */
  ownerOf(dialog: Dialog): AppConnection | undefined {
    const app = this.registry.get(dialog.ownerAppId);
    return app && !app.closed ? app : undefined;
  }

  /** Runs a handler; a bug in one never takes the edge down. */
  guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, what }, 'relay handler failed');
    }
  }
}
