/**
 * An application's connection closed (docs/edge.md §5). As with drachtio-server its calls stay
 * up: established dialogs remain, a network request in one goes to another connected app with
 * the same srf tags (or is answered 481, a BYE then ending the dialog), and any app that sends
 * a request in it (srf reconnecting with its dialogs, typically) takes it over. What cannot
 * outlive the app ends: requests it had not answered get 480 (INVITE) or 503, INVITEs it sent
 * that nobody answered are cancelled, and a 2xx it never ACKed is ACKed and hung up.
 */
import type { AppConnection } from '../wire/app-registry.ts';
import type { RelayContext } from './relay-context.ts';
import { moveInbound } from './transaction-records.ts';
import { ackAndBye, endDialog } from './dialog-lifecycle.ts';

export function onAppGone(ctx: RelayContext, app: AppConnection): void {
  for (const r of ctx.inbound.values()) {
    if (r.app !== app || r.state !== 'pending' || r.proxy) continue;
    moveInbound(r, 'final-sent');
    ctx.respondLocally(r.server, r.request.method === 'INVITE' ? 480 : 503, r.toTag);
    if (r.dialog?.state === 'early') endDialog(ctx, r.dialog, 'app left during INVITE');
  }
  for (const r of ctx.outbound.values()) {
    if (r.app === app && r.client.method === 'INVITE' && !r.final) r.client.cancel();
  }
  for (const d of ctx.dialogs.ownedBy(app.id)) {
    if (d.state === 'early') continue; // ends with its INVITE transaction
    if (d.ackFrom === 'app' && d.awaitingAck) void ackAndBye(ctx, d);
    else ctx.log.info({ dialogId: d.id, app: app.id }, 'dialog kept after its app left');
  }
}
