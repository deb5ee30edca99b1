/**
 * Requests inside a dialog the edge proxied with Record-Route (docs/edge.md §7.3): they arrive
 * with the edge's own URI as top Route, as drachtio-server sees them, and go on to the next hop
 * (RFC 3261 16.4, 16.6, 16.12): top Route removed, Max-Forwards decremented, the edge's Via on
 * top. An ACK is forwarded statelessly; anything else through a client transaction whose
 * responses go back on the server transaction with the edge's Via removed.
 */
import { cloneMessage, getHeader, nameAddrUri, parseUri, removeTopVia, setHeader, type SipRequest, type SipResponse } from '../sip/message.ts';
import { canonicalHeaderKey, splitTopLevelCommas } from '../sip/header-names.ts';
import { createResponse } from '../sip/response-builder.ts';
import type { Flow, TransportName } from '../sip/transport.ts';
import type { ServerTransaction } from '../transaction/transaction-types.ts';
import type { RelayContext } from './relay-context.ts';
import { uriTarget } from './next-hop.ts';
import { newBranch } from '../sip-identity.ts';

/** drachtio-server's test: a To tag, and a loose-routing top Route naming the edge. */
export function isRoutedThroughUs(ctx: RelayContext, req: SipRequest): boolean {
  if (!getHeader(req, 'To')?.includes('tag=')) return false;
  const top = getHeader(req, 'Route');
  const uri = top !== undefined ? nameAddrUri(top) : undefined;
  const u = uri !== undefined ? parseUri(uri) : undefined;
  if (!u || !u.params.has('lr')) return false;
  return isEdgeHostport(ctx, u.host, u.port);
}

export function isEdgeHostport(ctx: RelayContext, host: string, port: number | undefined): boolean {
  const local = ctx.local();
  const h = host.startsWith('[') ? host.slice(1, -1) : host;
  return h.toLowerCase() === local.host.toLowerCase() && (port ?? 5060) === local.port;
}

/** Removes the topmost Route value (the first element of the first Route line). */
function removeTopRoute(msg: SipRequest): void {
  const idx = msg.headers.findIndex((x) => canonicalHeaderKey(x.name) === 'route');
  const h = msg.headers[idx];
  if (!h) return;
  const rest = splitTopLevelCommas(h.value).slice(1);
  if (rest.length === 0) msg.headers.splice(idx, 1);
  else msg.headers[idx] = { name: h.name, value: rest.join(', ') };
}

/** RFC 3261 16.6 step 3: decrement, or refuse with 483 at 0 (16.3). */
export function decrementMaxForwards(req: SipRequest): boolean {
  const mf = getHeader(req, 'Max-Forwards');
  if (mf === undefined) {
    setHeader(req, 'Max-Forwards', '70');
    return true;
  }
  const n = Number(mf.trim());
  if (!Number.isInteger(n) || n <= 0) return false;
  setHeader(req, 'Max-Forwards', String(n - 1));
  return true;
}

/** The response as the upstream client must see it: the edge's Via removed (16.7 step 9). */
export function upstream(res: SipResponse): SipResponse {
  const out = cloneMessage(res);
  removeTopVia(out);
  return out;
}

export function forwardByRoute(ctx: RelayContext, req: SipRequest, txn: ServerTransaction | undefined, flow: Flow): void {
  const fwd = cloneMessage(req);
  removeTopRoute(fwd);
  if (!decrementMaxForwards(fwd)) {
    if (txn) ctx.respondLocally(txn, 483);
    return;
  }
  const next = getHeader(fwd, 'Route');
  const nextUri = next !== undefined ? nameAddrUri(next) : undefined;
  const hop = nextUri && parseUri(nextUri)?.params.has('lr') ? nextUri : fwd.uri;
  const fallback: TransportName = flow.transport;
  void uriTarget(ctx.resolver, hop, fallback).then(
    (target) => {
      if (!txn) {
        // ACK for a 2xx: its own transaction end to end (17.1.1.3); forwarded as it is
        fwd.headers.unshift({ name: 'Via', value: ctx.layer.ourVia(target, newBranch()) });
        void ctx.layer.sendStateless(fwd, target).catch((err: unknown) => ctx.log.debug({ err }, 'forwarded ACK not sent'));
        return;
      }
      const client = ctx.layer.sendRequest(fwd, target);
      client.on('response', (res) => {
        if (res.status === 100) return;
        void txn.respond(upstream(res)).catch((err: unknown) => ctx.log.debug({ err }, 'forwarded response not sent'));
      });
      client.on('timeout', () => ctx.respondLocally(txn, 408, undefined));
      client.on('transport-error', () => ctx.respondLocally(txn, 503, undefined));
    },
    (err: unknown) => {
      ctx.log.info({ err, hop }, 'next hop of a routed request unresolvable');
      if (txn) void txn.respond(createResponse(req, 404)).catch(() => undefined);
    },
  );
}
