/**
 * How dialogs end: BYE either way, the ACK that never came (13.3.1.4), the app that left, and the
 * 2xx retransmission that runs until the ACK. The dialog owns its timers; ending it stops them.
 */
import type { SipHeader } from '../sip/message.ts';
import type { Target } from '../sip/transport.ts';
import { Uas2xxRetransmitter } from '../transaction/uas-2xx-retransmitter.ts';
import type { Dialog } from '../dialog/dialog.ts';
import { formatUnsolicited } from '../wire/wire-message.ts';
import type { RelayContext } from './relay-context.ts';
import { dialogTarget } from './next-hop.ts';

export function endDialog(ctx: RelayContext, dialog: Dialog, why: string): void {
  if (!dialog.transition('terminated')) return;
  dialog.stop();
  ctx.dialogs.delete(dialog);
  ctx.log.debug({ dialogId: dialog.id, why }, 'dialog ended');
}

/** 13.3.1.4: the 2xx is retransmitted until the ACK; without one, BYE (Timer H). */
export function startRetransmitting(ctx: RelayContext, dialog: Dialog, bytes: Buffer, target: Target): void {
  dialog.retransmitter?.stop();
  dialog.retransmitter = new Uas2xxRetransmitter({
    layer: ctx.layer,
    response: bytes,
    target,
    timers: { t1: ctx.timers.T1, t2: ctx.timers.T2, t4: ctx.timers.T4 },
    clock: ctx.clock,
    onTimeout: () => ctx.guard('ack-timeout', () => onAckTimeout(ctx, dialog)),
  });
}

function onAckTimeout(ctx: RelayContext, dialog: Dialog): void {
  dialog.retransmitter = undefined;
  if (dialog.state === 'terminated') return;
  ctx.log.warn({ dialogId: dialog.id }, 'no ACK for 2xx, ending dialog');
  const app = ctx.ownerOf(dialog);
  void sendEdgeBye(ctx, dialog, [{ name: 'Reason', value: 'SIP;cause=200;text="ACK timeout"' }]).then((sent) => {
    if (!sent || !app) return;
    app.send(
      formatUnsolicited(
        { bytes: sent.bytes.length, transport: sent.target.transport, remoteAddress: sent.target.address, remotePort: sent.target.port, dialogId: dialog.id },
        sent.bytes.toString('utf8'),
      ),
    );
  });
}

/** A BYE the edge itself sends (ACK timeout, orphaned 2xx); the dialog ends at once. */
export async function sendEdgeBye(ctx: RelayContext, dialog: Dialog, headers: SipHeader[] = []): Promise<{ bytes: Buffer; target: Target } | undefined> {
  if (dialog.state === 'terminated') return undefined;
  const bye = dialog.buildRequest({ kind: 'request', method: 'BYE', uri: 'sip:placeholder', headers, body: Buffer.alloc(0) }, ctx.local());
  endDialog(ctx, dialog, 'edge sent BYE');
  try {
    const target = await dialogTarget(ctx.resolver, dialog);
    const txn = ctx.layer.sendRequest(bye, target);
    txn.on('transport-error', () => undefined);
    return { bytes: txn.sent, target };
  } catch (err) {
    ctx.log.warn({ err, dialogId: dialog.id }, 'edge BYE not sent');
    return undefined;
  }
}

/** A 2xx nobody will ACK (its app left): complete the handshake and hang up. */
export async function ackAndBye(ctx: RelayContext, dialog: Dialog): Promise<void> {
  try {
    const target = await dialogTarget(ctx.resolver, dialog);
    const ack = dialog.buildAck({ kind: 'request', method: 'ACK', uri: 'sip:placeholder', headers: [], body: Buffer.alloc(0) }, ctx.local(), target.transport);
    await ctx.layer.sendStateless(ack, target);
    dialog.transition('confirmed');
  } catch (err) {
    ctx.log.debug({ err }, 'ACK for orphaned 2xx failed');
  }
  await sendEdgeBye(ctx, dialog);
}
