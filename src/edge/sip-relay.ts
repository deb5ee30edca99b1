/**
 * The edge's relay between drachtio-srf applications (wire protocol) and the SIP network
 * (transaction layer), doing what drachtio-server does for srf (docs/edge.md). This file only
 * wires events to the parts under relay/, one per direction:
 * - relay/network-requests.ts   requests from the network to apps
 * - relay/app-responses.ts      apps' responses to them
 * - relay/app-requests.ts       requests from apps to the network
 * - relay/network-responses.ts  the network's responses to those
 * - relay/dialog-lifecycle.ts, relay/app-departures.ts  how dialogs and apps end
 * - relay/proxy.ts, relay/route-forwarding.ts  srf.proxyRequest and the dialogs it record-routes
 */
import type { SipRequest, SipResponse } from './sip/message.ts';
import type { Flow } from './sip/transport.ts';
import { realClock } from './transaction/timers.ts';
import type { ServerTransaction } from './transaction/transaction-types.ts';
import type { AppConnection } from './wire/app-registry.ts';
import { parseAppSip } from './wire/app-sip-text.ts';
import { formatNok, type WirePayload } from './wire/wire-message.ts';
import { RelayContext, type RelayOptions } from './relay/relay-context.ts';
import { onNetworkCancel, onNetworkRequest } from './relay/network-requests.ts';
import { onStrayResponse } from './relay/network-responses.ts';
import { appResponse } from './relay/app-responses.ts';
import { appCancel, appInDialogRequest, appNewRequest } from './relay/app-requests.ts';
import { onAppGone } from './relay/app-departures.ts';
import { appProxy } from './relay/proxy.ts';

export type SipRelayOptions = Omit<RelayOptions, 'clock'> & Partial<Pick<RelayOptions, 'clock'>>;

export interface RelaySize {
  dialogs: number;
  /** network requests an app has not finished with */
  inbound: number;
  /** requests apps sent whose transaction still runs */
  outbound: number;
  /** UAS 2xx awaiting their ACK */
  retransmitters: number;
  /** cancelled INVITEs kept for 64*T1 to refuse a late answer */
  cancelled: number;
}

export class SipRelay {
  private readonly ctx: RelayContext;

  constructor(opts: SipRelayOptions) {
    const ctx = new RelayContext({ ...opts, clock: opts.clock ?? realClock });
    this.ctx = ctx;
    const { layer } = opts;
    layer.on('request', (req: SipRequest, txn: ServerTransaction | undefined, flow: Flow) => {
      ctx.guard('request', () => onNetworkRequest(ctx, req, txn, flow));
    });
    layer.on('cancel', (cancel: SipRequest, cancelTxn: ServerTransaction, inviteTxn: ServerTransaction | undefined) => {
      ctx.guard('cancel', () => onNetworkCancel(ctx, cancel, cancelTxn, inviteTxn));
    });
    layer.on('stray-response', (res: SipResponse) => ctx.guard('stray-response', () => void onStrayResponse(ctx, res)));
    opts.registry.on('app-gone', (app) => ctx.guard('app-gone', () => onAppGone(ctx, app)));
  }

  get dialogs(): RelayContext['dialogs'] {
    return this.ctx.dialogs;
  }

  /** What the relay holds (tests check that it drains to zero; metrics may read it). */
  get size(): RelaySize {
    let inbound = 0;
    let cancelled = 0;
    for (const r of this.ctx.inbound.values()) {
      if (!r.ended) inbound++;
      else if (r.state === 'cancelled') cancelled++;
    }
    const retransmitters = this.ctx.dialogs.all().filter((d) => d.retransmitter?.active).length;
    return { dialogs: this.ctx.dialogs.size, inbound, outbound: this.ctx.outbound.size, retransmitters, cancelled };
  }

  /** Stops every timer the dialogs own; the layer owns the transaction timers. */
  close(): void {
    for (const d of this.ctx.dialogs.all()) d.shutdown();
  }

  /** `proxy|...`: srf.proxyRequest (docs/edge.md §7). */
  handleAppProxy(app: AppConnection, msg: WirePayload): void {
    this.ctx.guard('proxy', () => appProxy(this.ctx, app, msg));
  }

  /** A `sip` command from an application: a response, a CANCEL, an in-dialog or a new request. */
  handleAppSip(app: AppConnection, msg: WirePayload): void {
    const ctx = this.ctx;
    const [txnId = '', dialogId = '', routeUri = ''] = msg.args;
    const parsed = msg.sip !== undefined ? parseAppSip(msg.sip) : undefined;
    if (!parsed) {
      app.send(formatNok(msg.msgId, 'unparseable sip message'));
      return;
    }
    const run = async (): Promise<void> => {
      if (parsed.kind === 'response') await appResponse(ctx, app, msg.msgId, txnId, parsed);
      else if (parsed.method === 'CANCEL' && txnId) appCancel(ctx, app, msg.msgId, txnId, parsed);
      else if (dialogId) await appInDialogRequest(ctx, app, msg.msgId, dialogId, parsed);
      else await appNewRequest(ctx, app, msg.msgId, parsed, routeUri);
    };
    run().catch((err: unknown) => {
      ctx.log.warn({ err, app: app.id }, 'app sip command failed');
      app.send(formatNok(msg.msgId, err instanceof Error ? err.message : String(err)));
    });
  }
}
