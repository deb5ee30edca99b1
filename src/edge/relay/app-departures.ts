/**
 * An application's connection closed (docs/edge.md §5): what it left pending is answered, what
 * it started and nobody answered yet is cancelled, and its dialogs end.
 */
import type { AppConnection } from '../wire/app-registry.ts';
import type { RelayContext } from './relay-context.ts';
import { moveInbound } from './transaction-records.ts';
import { ackAndBye, sendEdgeBye } from './dialog-lifecycle.ts';

export function onAppGone(ctx: RelayContext, app: AppConnection): void {
  for (const r of ctx.inbound.values()) {
    if (r.app !== app || r.state !== 'pending') continue;
    moveInbound(r, 'final-sent');
    ctx.respondLocally(r.server, r.request.method === 'INVITE' ? 480 : 503, r.toTag);
  }
  for (const r of ctx.outbound.values()) {
    if (r.app === app && r.client.method === 'INVITE' && !r.final) r.client.cancel();
  }
  for (const d of ctx.dialogs.ownedBy(app.id)) {
    if (d.ackFrom === 'app' && d.awaitingAck) void ackAndBye(ctx, d);
    else void sendEdgeBye(ctx, d);
  }
}
